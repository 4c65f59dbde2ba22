package handoff

// IngestResult says what became of a batch of events handed to the queue:
// how many were newly stored and how many had been stored before (a
// redelivery, or the same event twice in one batch). Accepted+Duplicates is
// the number of events in the batch.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}
