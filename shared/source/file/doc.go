// Package file loads dropped files: CSV and JSON Lines objects put under
// sources/<source>/ in the bucket (or local mode's drop folder).
//
// NewRows streams the rows of a file with memory bounded by the row limit
// (1 MiB): CSV with a header row (RFC 4180 quoting, configurable delimiter
// and comment character, byte order marks) and JSON Lines, either of them
// gzip-compressed. Rows that cannot be read are reported with their line
// number and raw text and do not stop the file; a CSV quote error costs the
// line it opened on, not the lines after it (see csvRows), so every
// physical line after the header is blank, a comment, or in exactly one
// row or bad row.
//
// A Loader maps each row with its source's mapping (package mapping),
// feeds the records to the pipeline in batches, and writes next to the
// object:
//
//   - rejected/<key>.jsonl: one JSON object per bad row (line, errors with
//     field and reason, and the row as read), plus the accepted rows that
//     lost a value ("accepted": true), so nothing is dropped silently. It
//     holds customer data and is protected like the input; it is not a log.
//   - reports/<key>.json: the load Report (counts, timings, ETag).
//
// Loading is idempotent: records get ids and times derived from the object
// (not the clock), so the pipeline sees a re-delivered file as duplicates,
// and an object whose report already carries its ETag is not read again.
// The object's time is the records' ReceivedAt, never their ObservedAt, so
// it stays out of the content key (pipeline.ContentKey): the same bytes
// under another name or time are duplicates too.
//
// Logs carry keys, counts, line numbers and field names, never values.
// The S3 event adapter is in package lambda/s3event.
package file
