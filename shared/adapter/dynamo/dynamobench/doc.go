// Package dynamobench measures what the real ingestion pipeline (package
// app's wiring: identity resolution, golden records, segments, the identity
// counters and the record index, the fold of appended events) costs in DynamoDB request
// units per ingested event, against DynamoDB Local.
//
// It holds only benchmarks and tests: run
//
//	go test -run '^$' -bench 'DynamoPipeline|DynamoTracked' ./shared/adapter/dynamo/dynamobench
//
// It is a package of its own so that the store's conformance suite does not
// depend on the whole platform compiling.
package dynamobench
