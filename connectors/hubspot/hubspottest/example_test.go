package hubspottest_test

import (
	"context"
	"fmt"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

// The fake with the real client in private-app mode (no token store), as
// `handoff demo` can use it.
func Example() {
	fake := hubspottest.New(hubspottest.DefaultSeed())
	defer fake.Close()
	client, err := hubspot.New(fake.PrivateAppConfig(), hubspot.Deps{})
	if err != nil {
		panic(err)
	}
	p, err := client.Profile(context.Background(), fake.PortalID(), handoff.ContactRef{Email: "ana@globex.example"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Facts.Name, "|", p.Account.Name, p.Account.Tier, "|", p.Deal.Name, p.Deal.Stage, p.Deal.Probability, "| calls:", p.Calls)
	// Output: Ana Alvarez | Globex Corporation tier_1 | Globex - Enterprise plan contractsent 0.9 | calls: 3
}
