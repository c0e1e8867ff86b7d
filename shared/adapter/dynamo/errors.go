package dynamo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Kind returns the portable error kind (package fault) of a DynamoDB error,
// or nil when err has none:
//
//   - ConditionalCheckFailedException, and TransactionCanceledException
//     with a ConditionalCheckFailed reason: fault.ErrConflict;
//   - throttling (ThrottlingException, ProvisionedThroughputExceeded,
//     RequestLimitExceeded), TransactionConflict, TransactionInProgress and
//     internal server errors: fault.ErrRetryable;
//   - an item or request over DynamoDB's size limits: fault.ErrTooLarge;
//   - other validation errors: fault.ErrInvalid.
func Kind(err error) error {
	if err == nil {
		return nil
	}
	var (
		ccf      *types.ConditionalCheckFailedException
		canceled *types.TransactionCanceledException
		pte      *types.ProvisionedThroughputExceededException
		rle      *types.RequestLimitExceeded
		thr      *types.ThrottlingException
		tc       *types.TransactionConflictException
		tip      *types.TransactionInProgressException
		ise      *types.InternalServerError
		icl      *types.ItemCollectionSizeLimitExceededException
	)
	switch {
	case errors.As(err, &ccf):
		return fault.ErrConflict
	case errors.As(err, &canceled):
		_, kind := cancellation(canceled)
		return kind
	case errors.As(err, &pte), errors.As(err, &rle), errors.As(err, &thr),
		errors.As(err, &tc), errors.As(err, &tip), errors.As(err, &ise):
		return fault.ErrRetryable
	case errors.As(err, &icl):
		return fault.ErrTooLarge
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottled",
			"TooManyRequestsException", "ServiceUnavailable", "InternalFailure":
			return fault.ErrRetryable
		case "ValidationException":
			if tooLarge(api.ErrorMessage()) {
				return fault.ErrTooLarge
			}
			return fault.ErrInvalid
		}
	}
	return nil
}

func tooLarge(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "size has exceeded") || strings.Contains(m, "exceeds the maximum") ||
		strings.Contains(m, "too large") || strings.Contains(m, "member must have length less than")
}

// cancellation classifies a cancelled transaction: the index of the item
// that caused it (-1 if unknown) and its kind. A failed condition wins over
// a transient reason, because retrying unchanged would fail again.
func cancellation(e *types.TransactionCanceledException) (int, error) {
	first := func(codes ...string) int {
		for i, r := range e.CancellationReasons {
			if r.Code == nil {
				continue
			}
			for _, c := range codes {
				if *r.Code == c {
					return i
				}
			}
		}
		return -1
	}
	if i := first("ConditionalCheckFailed"); i >= 0 {
		return i, fault.ErrConflict
	}
	if i := first("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"); i >= 0 {
		return i, fault.ErrRetryable
	}
	if i := first("ItemCollectionSizeLimitExceeded"); i >= 0 {
		return i, fault.ErrTooLarge
	}
	if i := first("ValidationError"); i >= 0 {
		msg := ""
		if m := e.CancellationReasons[i].Message; m != nil {
			msg = *m
		}
		if tooLarge(msg) {
			return i, fault.ErrTooLarge
		}
		return i, fault.ErrInvalid
	}
	return -1, fault.ErrRetryable
}

// wrap annotates a DynamoDB error with its portable kind, if it has one,
// keeping the SDK error in the chain for errors.As.
func wrap(op string, err error) error {
	if kind := Kind(err); kind != nil {
		return fmt.Errorf("dynamo: %s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("dynamo: %s: %w", op, err)
}
