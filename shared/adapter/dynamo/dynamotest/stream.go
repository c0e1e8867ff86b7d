package dynamotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Stream reads a table's DynamoDB stream on DynamoDB Local and renders
// what it reads as the JSON event Lambda hands a stream-triggered function
// (events.DynamoDBEvent), so tests feed the real decode path with real
// stream records and sequence numbers.
type Stream struct {
	c   *dynamodbstreams.Client
	arn string
	// after holds the last sequence number read per shard.
	after map[string]string
}

// StreamFor returns a reader of table's stream, for a table created by a
// client with accessKey (see ClientFor). It starts at the stream's
// beginning.
func StreamFor(t testing.TB, accessKey, table string) *Stream {
	t.Helper()
	ep := Endpoint(t)
	c := dynamodbstreams.NewFromConfig(awsConfig(t, accessKey), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(ep)
	})
	out, err := c.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("dynamotest: list streams of %s: %v", table, err)
	}
	if len(out.Streams) == 0 {
		t.Fatalf("dynamotest: table %s has no stream", table)
	}
	return &Stream{c: c, arn: aws.ToString(out.Streams[0].StreamArn), after: map[string]string{}}
}

// Next returns the records written since the last call (every shard, in
// order within a shard) as a Lambda DynamoDB stream event.
func (s *Stream) Next(t testing.TB) []byte {
	t.Helper()
	ctx := t.Context()
	desc, err := s.c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.arn)})
	if err != nil {
		t.Fatalf("dynamotest: describe stream: %v", err)
	}
	var recs []map[string]any
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(s.arn), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if seq, ok := s.after[id]; ok {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
		}
		it, err := s.c.GetShardIterator(ctx, in)
		if err != nil {
			t.Fatalf("dynamotest: shard iterator of %s: %v", id, err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := s.c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("dynamotest: get records of %s: %v", id, err)
			}
			for _, r := range out.Records {
				recs = append(recs, lambdaRecord(r, s.arn))
				s.after[id] = aws.ToString(r.Dynamodb.SequenceNumber)
			}
			if len(out.Records) == 0 {
				break // an open shard: nothing more now
			}
			iter = out.NextShardIterator
		}
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatalf("dynamotest: encode stream event: %v", err)
	}
	return b
}

// lambdaRecord renders a stream record in the shape Lambda delivers it.
func lambdaRecord(r types.Record, arn string) map[string]any {
	d := r.Dynamodb
	ddb := map[string]any{
		"Keys":           image(d.Keys),
		"SequenceNumber": aws.ToString(d.SequenceNumber),
		"SizeBytes":      aws.ToInt64(d.SizeBytes),
		"StreamViewType": string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		ddb["ApproximateCreationDateTime"] = d.ApproximateCreationDateTime.Unix()
	}
	if d.NewImage != nil {
		ddb["NewImage"] = image(d.NewImage)
	}
	return map[string]any{
		"eventID": aws.ToString(r.EventID), "eventName": string(r.EventName), "eventVersion": aws.ToString(r.EventVersion),
		"eventSource": "aws:dynamodb", "awsRegion": Region, "dynamodb": ddb, "eventSourceARN": arn,
	}
}

func image(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attribute(v)
	}
	return out
}

func attribute(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = attribute(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": image(v.Value)}
	}
	panic(fmt.Sprintf("dynamotest: attribute type %T", v))
}
