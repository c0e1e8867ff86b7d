// Package local runs the whole platform in one process: the HTTP API, a
// drop folder standing in for the S3 bucket, the embedded store, the outbox
// relay and the in-process bus. Every part is the code a Lambda function
// runs in AWS, wired by package app; only the transports differ.
package local
