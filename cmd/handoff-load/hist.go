package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in microseconds in log-linear buckets, HDR
// style: values below 128 µs are exact, above that every power of two is
// split into 64 buckets, so any recorded value is known within 1/64 (1.6%).
// Memory is fixed (a few KiB) however long the run.
type histogram struct {
	counts [64 * 64]uint64
	total  uint64
	min    uint64
	max    uint64
	sum    float64
}

const subBuckets = 64 // per power of two; values < 2*subBuckets are exact

func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // v>>shift is in [64,127]
	return shift*subBuckets + int(v>>shift)
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	mant := uint64(i - shift*subBuckets)
	return (mant+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	v := uint64(us)
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q ≤ 1): the highest value
// of the bucket holding the ceil(q·n)-th smallest sample, capped at the
// exact maximum. Never below the true quantile, at most 1/64 above it.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}

func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum/float64(h.total)) * time.Microsecond
}
