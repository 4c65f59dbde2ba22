package textprep_test

import (
	"fmt"

	"github.com/handoff-dev/handoff/ladder/textprep"
)

func ExamplePrepare() {
	p := textprep.Prepare(`Can we move the call to Thursday?

Best,
Ana Ruiz
Contracts Manager | Globex

On Mon, Mar 2, 2026 at 4:12 PM Bob Stone <bob@vendor.example> wrote:
> Pricing, MSA and SOC 2 attached.
`)
	fmt.Println(p.New)
	fmt.Println(p.Summary())
	// Output:
	// Can we move the call to Thursday?
	// ignored a quoted reply (2 lines) and a signature (3 lines)
}
