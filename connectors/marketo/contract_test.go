package marketo_test

import (
	"context"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/marketo"
)

// crmConnector is the interface the pipeline declares (docs/architecture.md).
type crmConnector interface {
	Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error)
	OwnerByEmail(ctx context.Context, tenant, email string) (handoff.Owner, error)
	CreateTask(ctx context.Context, spec handoff.TaskSpec) (handoff.Task, error)
	FindTask(ctx context.Context, tenant, handoffID string) (handoff.Task, error)
	GetTask(ctx context.Context, tenant, taskID string) (handoff.Task, error)
	AppendToTask(ctx context.Context, tenant, taskID, note string) error
	ReassignTask(ctx context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error
}

var _ crmConnector = (*marketo.Client)(nil)
