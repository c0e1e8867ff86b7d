// Package tablecheck holds only a test: that the table the cdp construct
// deploys has the keys, index and time-to-live attribute that the DynamoDB
// store (shared/adapter/dynamo) expects, and that the attributes its stream
// filters select on are those the store writes. It lives apart from package cdp so
// that the construct's own tests do not depend on the store compiling.
package tablecheck
