package dynamo

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// ScanClient is the part of the DynamoDB client a profile scan needs; the
// SDK's *dynamodb.Client and *Meter have it. It is not part of Client:
// no request path scans the table.
type ScanClient interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ScanOptions tune ScanProfiles.
type ScanOptions struct {
	// Segments splits the scan into this many parallel scan segments
	// (Scan's Segment/TotalSegments), each paginated on its own; default 1.
	Segments int
	// PageSize is the Limit of each Scan request: items read before the
	// filter; default 0, DynamoDB's 1 MB pages.
	PageSize int32
}

// ScanProfiles walks every live profile of the table: a paginated Scan of
// the whole table that keeps the profile items (partition key P#…, sort
// key P) that are not merge redirects. It is meant for batch jobs (RFM
// thresholds, previews, reconcile), never for a request path.
//
// Cost: a Scan is charged for every item it reads, before the filter, so
// one pass costs the whole table's size in read units (4 KB = 1 unit,
// halved for these eventually consistent reads) whatever the number of
// profiles: identifiers, records, events and segment items are read too.
// For 1 M profiles with their identifiers, records and events (say 10 GB)
// that is about 1.3 M read units per pass. Profiles come in no particular
// order and, under concurrent writes, as of when each page was read.
//
// The client given to New must also be a ScanClient; otherwise the
// sequence yields one error. Stopping the iteration early stops the scan.
func (s *Store) ScanProfiles(ctx context.Context, o ScanOptions) iter.Seq2[*profile.Profile, error] {
	return func(yield func(*profile.Profile, error) bool) {
		sc, ok := s.client.(ScanClient)
		if !ok {
			yield(nil, fmt.Errorf("dynamo: scan profiles: client %T cannot Scan", s.client))
			return
		}
		segments := max(1, o.Segments)
		if segments == 1 {
			for p, err := range s.scanSegment(ctx, sc, o, 0, 1) {
				if !yield(p, err) || err != nil {
					return
				}
			}
			return
		}
		s.scanParallel(ctx, sc, o, segments, yield)
	}
}

// scanParallel runs the scan segments concurrently and yields their
// profiles from the caller's goroutine.
func (s *Store) scanParallel(ctx context.Context, sc ScanClient, o ScanOptions, segments int, yield func(*profile.Profile, error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		p   *profile.Profile
		err error
	}
	out := make(chan result, 64)
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Go(func() {
			for p, err := range s.scanSegment(ctx, sc, o, seg, segments) {
				select {
				case out <- result{p, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	for r := range out {
		if !yield(r.p, r.err) || r.err != nil {
			cancel()
			// Drain so the senders can finish.
			for range out {
			}
			return
		}
	}
}

// scanSegment pages through one scan segment.
func (s *Store) scanSegment(ctx context.Context, sc ScanClient, o ScanOptions, seg, total int) iter.Seq2[*profile.Profile, error] {
	return func(yield func(*profile.Profile, error) bool) {
		in := &dynamodb.ScanInput{
			TableName:        aws.String(s.table),
			FilterExpression: aws.String("begins_with(#pk, :p) AND #sk = :sk AND attribute_not_exists(#to)"),
			ExpressionAttributeNames: map[string]string{
				"#pk": PartitionKey, "#sk": SortKey, "#to": attrTo,
				"#ver": attrVersion, "#body": attrBody, "#enc": attrEnc,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": str(pfxProfile), ":sk": str(skProfile),
			},
			ProjectionExpression: aws.String("#pk, #ver, #body, #enc"),
		}
		if o.PageSize > 0 {
			in.Limit = aws.Int32(o.PageSize)
		}
		if total > 1 {
			in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(total))
		}
		for {
			out, err := sc.Scan(ctx, in)
			if err != nil {
				yield(nil, wrap("scan profiles", err))
				return
			}
			for _, it := range out.Items {
				var p profile.Profile
				if err := decodeBody(it, &p); err != nil {
					// The key names the profile id, not personal data.
					yield(nil, fmt.Errorf("dynamo: scan profiles: decode %s: %w", getS(it, PartitionKey), err))
					return
				}
				if v, ok := getN(it, attrVersion); ok {
					p.Version = v
				}
				if !yield(&p, nil) {
					return
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

// Scan implements ScanClient, counting read units: the reported consumed
// capacity when the service reports it, else the size of the items
// returned (a lower bound: a filtered Scan is charged for what it read).
func (m *Meter) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	sc, ok := m.c.(ScanClient)
	if !ok {
		return nil, fmt.Errorf("dynamo: meter: client %T cannot Scan", m.c)
	}
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := sc.Scan(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	m.add(func(u *Units) {
		size := 0
		for _, it := range out.Items {
			size += ItemSize(it)
		}
		u.Read += readUnits(size, isTrue(in.ConsistentRead))
		u.ReportedRead += consumed(out.ConsumedCapacity)
	})
	return out, nil
}
