package ladder

import (
	"math"

	"github.com/handoff-dev/handoff"
)

// scoreSpec weighs the five components of the handoff score. Each component
// is 0..1, higher meaning "a human is more needed"; the score is their
// weighted mean.
type scoreSpec struct {
	weights    map[string]float64
	tierValue  map[string]float64
	riskValue  map[string]float64
	amountCap  float64
	stallTurns float64
}

func defaultScoreSpec() scoreSpec {
	return scoreSpec{
		weights:    map[string]float64{"confidence": 0.25, "sentiment": 0.2, "value": 0.2, "risk": 0.25, "progress": 0.1},
		tierValue:  map[string]float64{"tier_1": 1, "tier_2": 0.6, "tier_3": 0.3},
		riskValue:  map[string]float64{"low": 0.3, "medium": 0.6, "high": 1},
		amountCap:  100000,
		stallTurns: 6,
	}
}

// ScoreParts are the components of one score, for the trace.
type ScoreParts struct {
	Confidence, Sentiment, Value, Risk, Progress float64
}

func (l *Ladder) computeScore(c *handoff.Context) (float64, ScoreParts) {
	s := &l.score
	var p ScoreParts
	if c.Agent.HasConfidence {
		p.Confidence = clamp01(1 - c.Agent.Confidence)
	}
	// Negative sentiment now, or falling across the conversation.
	p.Sentiment = clamp01(math.Max(-c.Signals.Sentiment, -c.Conversation.SentimentTrend/2))
	// Account value: tier, named account, or the open deal's size weighed
	// by how far along it is.
	v := s.tierValue[c.Account.Tier]
	if c.Account.IsTarget {
		v = math.Max(v, 0.8)
	}
	if c.Deal.IsOpen && c.Deal.Amount > 0 {
		v = math.Max(v, clamp01(c.Deal.Amount/s.amountCap)*(0.5+0.5*clamp01(c.Deal.Probability)))
	}
	p.Value = clamp01(v)
	// Topic risk: the riskiest topic raised.
	for _, t := range c.Signals.Topics {
		if r, ok := l.topicRisk[t]; ok {
			p.Risk = math.Max(p.Risk, r)
		}
	}
	if c.Signals.HumanRequest {
		p.Risk = math.Max(p.Risk, s.riskValue["medium"])
	}
	p.Progress = clamp01(float64(c.Conversation.TurnsWithoutProgress) / s.stallTurns)

	w := s.weights
	sum := w["confidence"] + w["sentiment"] + w["value"] + w["risk"] + w["progress"]
	if sum <= 0 {
		return 0, p
	}
	score := (w["confidence"]*p.Confidence + w["sentiment"]*p.Sentiment + w["value"]*p.Value +
		w["risk"]*p.Risk + w["progress"]*p.Progress) / sum
	return math.Round(score*1000) / 1000, p
}

func clamp01(v float64) float64 {
	switch {
	case v <= 0 || math.IsNaN(v):
		return 0
	case v > 1:
		return 1
	}
	return v
}
