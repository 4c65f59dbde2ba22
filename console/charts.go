package console

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// series is one line of a chart.
type series struct {
	Name   string
	Values []float64 // NaN: no data at that step
}

// palette is colour-blind safe (Okabe-Ito).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// lineChart draws series over the steps at as an accessible SVG: a title,
// one polyline per series (points carry their values as tooltips) and a
// legend. format renders a y value.
func lineChart(id, title string, at []time.Time, ss []series, format func(float64) string) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 220.0, 56.0, 12.0, 12.0, 28.0
	maxY := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				maxY = math.Max(maxY, v)
			}
		}
	}
	if maxY == 0 {
		maxY = 1
	}
	x := func(i int) float64 {
		if len(at) <= 1 {
			return left
		}
		return left + float64(i)*(w-left-right)/float64(len(at)-1)
	}
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-v/maxY) }
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><figcaption>%s</figcaption>`, esc(id), esc(title))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-t" data-points="%d" preserveAspectRatio="xMidYMid meet"><title id="%s-t">%s</title>`,
		w, h, esc(id), len(at), esc(id), esc(title))
	for _, f := range []float64{0, 0.5, 1} {
		yy := y(maxY * f)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, yy, yy, left-4, yy+4, esc(format(maxY*f)))
	}
	if len(at) > 0 {
		for _, i := range []int{0, len(at) / 2, len(at) - 1} {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(i), h-8, esc(at[i].UTC().Format("Jan 2 15:04")))
		}
	}
	for si, s := range ss {
		col := palette[si%len(palette)]
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
				pts = nil
			}
		}
		for i, v := range s.Values {
			if math.IsNaN(v) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s %s: %s</title></circle>`, x(i), y(v), col, esc(s.Name), at[i].UTC().Format(time.RFC3339), esc(format(v)))
		}
		flush()
	}
	b.WriteString(`</svg><ul class="legend">`)
	for si, s := range ss {
		fmt.Fprintf(&b, `<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="%s"/></svg>%s</li>`, palette[si%len(palette)], esc(s.Name))
	}
	b.WriteString(`</ul></figure>`)
	return template.HTML(b.String()) //nolint:gosec // every value above is escaped
}

func esc(s string) string { return template.HTMLEscapeString(s) }
