package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Object type names and ids (docs/crm/hubspot.md: contacts 0-1, companies 0-2, deals 0-3, tasks 0-27, notes 0-46).
var typeAliases = map[string]string{
	"contacts": "contacts", "contact": "contacts", "0-1": "contacts",
	"companies": "companies", "company": "companies", "0-2": "companies",
	"deals": "deals", "deal": "deals", "0-3": "deals",
	"tasks": "tasks", "task": "tasks", "0-27": "tasks",
	"notes": "notes", "note": "notes", "0-46": "notes",
}

var singular = map[string]string{"contacts": "contact", "companies": "company", "deals": "deal", "tasks": "task", "notes": "note"}

// Property schemas (what exists in the fake portal).
var schema = map[string][]string{
	"contacts":  {"email", "firstname", "lastname", "jobtitle", "lifecyclestage", "hubspot_owner_id", "company", "phone", "associatedcompanyid", "createdate", "lastmodifieddate", "hs_object_id"},
	"companies": {"name", "domain", "industry", "numberofemployees", "annualrevenue", "hs_is_target_account", "hs_ideal_customer_profile", "hubspot_owner_id", "lifecyclestage", "createdate", "hs_lastmodifieddate", "hs_object_id"},
	"deals":     {"dealname", "pipeline", "dealstage", "amount", "closedate", "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_deal_stage_probability", "hs_is_closed", "hs_is_closed_won"},
	"tasks":     {"hs_timestamp", "hs_task_subject", "hs_task_body", "hubspot_owner_id", "hs_task_status", "hs_task_priority", "hs_task_type", "hs_task_reminders", "hs_pinned_engagement_id", "hs_task_completion_date", "hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
	"notes":     {"hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_attachment_ids", "hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
}

var readOnly = []string{"createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_object_id", "hs_deal_stage_probability", "hs_is_closed", "hs_is_closed_won", "hs_task_completion_date"}

// Default properties returned without ?properties= (docs/crm/hubspot.md).
var defaults = map[string][]string{
	"contacts":  {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"},
	"companies": {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"},
	"deals":     {"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"},
	"tasks":     {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
	"notes":     {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
}

var always = map[string][]string{
	"contacts":  {"hs_object_id", "createdate", "lastmodifieddate"},
	"companies": {"hs_object_id", "createdate", "hs_lastmodifieddate"},
	"deals":     {"hs_object_id", "createdate", "hs_lastmodifieddate"},
	"tasks":     {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
	"notes":     {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"},
}

// Association type names used in read responses.
func assocTypeName(from, to string) string { return singular[from] + "_to_" + singular[to] }

// Task association type ids, HUBSPOT_DEFINED (docs/crm/hubspot.md).
var taskAssocTypes = map[int]string{204: "contacts", 192: "companies", 216: "deals", 228: "tickets"}

// Note association type ids, HUBSPOT_DEFINED (docs/crm/hubspot.md).
var noteAssocTypes = map[int]string{202: "contacts", 190: "companies", 214: "deals"}

// createAssocTypes is, per type the fake creates, its association type ids.
var createAssocTypes = map[string]map[int]string{"tasks": taskAssocTypes, "notes": noteAssocTypes}

// noteBodyMax is the documented limit of hs_note_body, in characters.
const noteBodyMax = 65536

const isoMillis = "2006-01-02T15:04:05.000Z"

func (s *Server) known(typ, prop string) bool {
	return slices.Contains(schema[typ], prop) || (typ == "tasks" && slices.Contains(s.seed.TaskProperties, prop)) ||
		(typ == "contacts" && slices.Contains(s.seed.ContactProperties, prop))
}

func (s *Server) associate(typ, id, other, otherID string) {
	o := s.objects[typ][id]
	if o == nil {
		return
	}
	if !slices.Contains(o.assoc[other], otherID) {
		o.assoc[other] = append(o.assoc[other], otherID)
	}
	if p := s.objects[other][otherID]; p != nil && !slices.Contains(p.assoc[typ], id) {
		p.assoc[typ] = append(p.assoc[typ], id)
	}
}

func objType(w http.ResponseWriter, r *http.Request) (string, bool) {
	t, ok := typeAliases[r.PathValue("type")]
	if !ok {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Unable to infer object type from: "+r.PathValue("type"), nil))
	}
	return t, ok
}

func notFound(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusNotFound, errBody("OBJECT_NOT_FOUND", "resource not found", map[string][]string{"id": {id}}))
}

// value returns a property value, computing read-only ones. Call with s.mu held.
func (s *Server) value(o *object, prop string) (string, bool) {
	switch prop {
	case "hs_object_id":
		return o.id, true
	case "createdate", "hs_createdate":
		return o.createdAt.UTC().Format(isoMillis), true
	case "lastmodifieddate", "hs_lastmodifieddate":
		return o.updatedAt.UTC().Format(isoMillis), true
	}
	if o.typ == "deals" && (prop == "hs_deal_stage_probability" || prop == "hs_is_closed" || prop == "hs_is_closed_won") {
		if s.omitCalc {
			return "", false
		}
		st, ok := s.stage(o.props["pipeline"], o.props["dealstage"])
		if !ok {
			return "", false
		}
		switch prop {
		case "hs_deal_stage_probability":
			return st.Probability, true
		case "hs_is_closed":
			return strconv.FormatBool(st.IsClosed), true
		default:
			return strconv.FormatBool(st.IsClosed && st.Probability == "1.0"), true
		}
	}
	v, ok := o.props[prop]
	return v, ok && v != ""
}

func (s *Server) stage(pipeline, stage string) (Stage, bool) {
	for _, p := range s.seed.Pipelines {
		if p.ID != pipeline {
			continue
		}
		for _, st := range p.Stages {
			if st.ID == stage {
				return st, true
			}
		}
	}
	return Stage{}, false
}

// render builds the SimplePublicObject JSON. Call with s.mu held.
func (s *Server) render(o *object, props []string, assocTypes []string) map[string]any {
	if len(props) == 0 {
		props = defaults[o.typ]
	} else {
		// hs_object_id and the create/modify dates always come back.
		props = append(slices.Clone(props), always[o.typ]...)
	}
	pm := map[string]any{}
	for _, p := range props {
		if !s.known(o.typ, p) {
			continue // unknown names are ignored (docs/crm/hubspot.md)
		}
		if v, ok := s.value(o, p); ok {
			pm[p] = v
		} else {
			pm[p] = nil
		}
	}
	out := map[string]any{
		"id": o.id, "properties": pm, "archived": false,
		"createdAt": o.createdAt.UTC().Format(isoMillis), "updatedAt": o.updatedAt.UTC().Format(isoMillis),
	}
	if len(assocTypes) > 0 {
		am := map[string]any{}
		for _, at := range assocTypes {
			to, ok := typeAliases[at]
			if !ok || len(o.assoc[to]) == 0 {
				continue
			}
			var res []map[string]string
			for i, id := range o.assoc[to] {
				name := assocTypeName(o.typ, to)
				if o.typ == "contacts" && to == "companies" && i == 0 {
					// The primary company comes back twice: labelled and unlabeled.
					res = append(res, map[string]string{"id": id, "type": name})
					res = append(res, map[string]string{"id": id, "type": name + "_unlabeled"})
					continue
				}
				res = append(res, map[string]string{"id": id, "type": name})
			}
			am[at] = map[string]any{"results": res}
		}
		if len(am) > 0 {
			out["associations"] = am
		}
	}
	return out
}

func splitList(v []string) []string {
	var out []string
	for _, s := range v {
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// lookup finds by id or idProperty. Call with s.mu held.
func (s *Server) lookup(typ, id, idProperty string) *object {
	if idProperty == "" || idProperty == "hs_object_id" {
		return s.objects[typ][id]
	}
	for _, oid := range s.order[typ] {
		o := s.objects[typ][oid]
		if o != nil && strings.EqualFold(o.props[idProperty], id) {
			return o
		}
	}
	return nil
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, portal string, _ []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	idProp := q.Get("idProperty")
	if idProp != "" && idProp != "hs_object_id" && !(typ == "contacts" && idProp == "email") {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", idProp+" is not a unique property", nil))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookup(typ, r.PathValue("id"), idProp)
	if o == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, s.render(o, splitList(q["properties"]), splitList(q["associations"])))
}

func propertyError(w http.ResponseWriter, name, code, msg string) {
	detail, _ := json.Marshal([]map[string]any{{"isValid": false, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg}})
	writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Property values were not valid: "+string(detail), nil))
}

var enums = map[string][]string{
	"hs_task_status":   {"NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"},
	"hs_task_priority": {"NONE", "LOW", "MEDIUM", "HIGH"},
	"hs_task_type":     {"TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING", "LINKED_IN_CONNECT", "LINKED_IN_MESSAGE"},
}

// validate checks property writes. Call with s.mu held. It normalizes hs_timestamp.
func (s *Server) validate(w http.ResponseWriter, typ string, props map[string]*string) (map[string]string, bool) {
	out := map[string]string{}
	for k, pv := range props {
		v := ""
		if pv != nil {
			v = *pv
		}
		if !s.known(typ, k) {
			propertyError(w, k, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property %q does not exist", k))
			return nil, false
		}
		if slices.Contains(readOnly, k) {
			propertyError(w, k, "READ_ONLY_VALUE", fmt.Sprintf("%s is a read only property; its value cannot be set.", k))
			return nil, false
		}
		if allowed, ok := enums[k]; ok && v != "" && !slices.Contains(allowed, v) {
			propertyError(w, k, "INVALID_OPTION", fmt.Sprintf("%s was not one of the allowed options: %v", v, allowed))
			return nil, false
		}
		if k == "hubspot_owner_id" && v != "" && !s.ownerExists(v) {
			propertyError(w, k, "INVALID_OWNER_ID", fmt.Sprintf("%s is not a valid owner id", v))
			return nil, false
		}
		if k == "hs_timestamp" || k == "hs_task_reminders" {
			t, ok := parseTimeValue(v)
			if !ok {
				propertyError(w, k, "INVALID_DATE", fmt.Sprintf("%s was not a valid long or ISO 8601 date", v))
				return nil, false
			}
			v = t.UTC().Format(isoMillis)
		}
		out[k] = v
	}
	return out, true
}

func parseTimeValue(v string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	for _, f := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(f, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) ownerExists(id string) bool {
	for _, o := range s.seed.Owners {
		if o.ID == id && !o.Archived {
			return true
		}
	}
	return false
}

type createBody struct {
	Properties   map[string]*string `json:"properties"`
	Associations []struct {
		To struct {
			ID string `json:"id"`
		} `json:"to"`
		Types []struct {
			AssociationCategory string `json:"associationCategory"`
			AssociationTypeID   int    `json:"associationTypeId"`
		} `json:"types"`
	} `json:"associations"`
}

func badJSON(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error(), nil))
}

func (s *Server) createObject(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	var in createBody
	if err := json.Unmarshal(body, &in); err != nil {
		badJSON(w, err)
		return
	}
	if in.Properties == nil {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "properties is required", nil))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	props, ok := s.validate(w, typ, in.Properties)
	if !ok {
		return
	}
	if (typ == "tasks" || typ == "notes") && props["hs_timestamp"] == "" {
		propertyError(w, "hs_timestamp", "REQUIRED_FIELD", "hs_timestamp is required")
		return
	}
	if typ == "notes" && len([]rune(props["hs_note_body"])) > noteBodyMax {
		propertyError(w, "hs_note_body", "INVALID_STRING_LENGTH", fmt.Sprintf("hs_note_body is longer than %d characters", noteBodyMax))
		return
	}
	type link struct{ to, id string }
	var links []link
	for _, a := range in.Associations {
		if len(a.Types) == 0 {
			writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "association types are required", nil))
			return
		}
		for _, t := range a.Types {
			to := createAssocTypes[typ][t.AssociationTypeID]
			if t.AssociationCategory != "HUBSPOT_DEFINED" || to == "" {
				writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", fmt.Sprintf("%s is not a valid association type id between %s and the target", strconv.Itoa(t.AssociationTypeID), singular[typ]), nil))
				return
			}
			if s.objects[to] == nil || s.objects[to][a.To.ID] == nil {
				writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", fmt.Sprintf("One or more associations are invalid: %s %s does not exist", singular[to], a.To.ID), nil))
				return
			}
			links = append(links, link{to, a.To.ID})
		}
	}
	now := s.now()
	if typ == "tasks" && props["hs_task_status"] == "" {
		props["hs_task_status"] = "NOT_STARTED"
	}
	id := strconv.FormatInt(s.nextID, 10)
	s.nextID++
	o := &object{id: id, typ: typ, props: props, assoc: map[string][]string{}, createdAt: now, updatedAt: now}
	s.objects[typ][id] = o
	s.order[typ] = append(s.order[typ], id)
	for _, l := range links {
		s.associate(typ, id, l.to, l.id)
	}
	writeJSON(w, http.StatusCreated, s.render(o, append(slices.Sorted(mapKeys(props)), defaults[typ]...), nil))
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (s *Server) patchObject(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	var in createBody
	if err := json.Unmarshal(body, &in); err != nil {
		badJSON(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookup(typ, r.PathValue("id"), r.URL.Query().Get("idProperty"))
	if o == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	props, ok := s.validate(w, typ, in.Properties)
	if !ok {
		return
	}
	for k, v := range props {
		o.props[k] = v
	}
	if typ == "tasks" && props["hs_task_status"] == "COMPLETED" && o.props["hs_task_completion_date"] == "" {
		o.props["hs_task_completion_date"] = s.now().UTC().Format(isoMillis)
	}
	o.updatedAt = s.now()
	writeJSON(w, http.StatusOK, s.render(o, append(slices.Sorted(mapKeys(o.props)), defaults[typ]...), nil))
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects[typ], r.PathValue("id")) // archiving a missing id is still a 204
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) batchRead(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	var in struct {
		Inputs                []struct{ ID string } `json:"inputs"`
		Properties            []string              `json:"properties"`
		PropertiesWithHistory []string              `json:"propertiesWithHistory"`
		IDProperty            string                `json:"idProperty"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		badJSON(w, err)
		return
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	for _, req := range []string{"inputs", "properties", "propertiesWithHistory"} {
		if _, ok := raw[req]; !ok {
			writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Invalid input JSON: "+req+" is required", nil))
			return
		}
	}
	if len(in.Inputs) > 100 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Batch input may not exceed 100 inputs", nil))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	started := s.now().UTC().Format(isoMillis)
	results := []map[string]any{}
	var missing []string
	for _, inp := range in.Inputs {
		o := s.lookup(typ, inp.ID, in.IDProperty)
		if o == nil {
			missing = append(missing, inp.ID)
			continue
		}
		results = append(results, s.render(o, in.Properties, nil))
	}
	resp := map[string]any{"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": s.now().UTC().Format(isoMillis)}
	status := http.StatusOK
	if len(missing) > 0 {
		status = http.StatusMultiStatus
		resp["numErrors"] = 1
		resp["errors"] = []map[string]any{{
			"status": "error", "category": "OBJECT_NOT_FOUND",
			"message": fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", strings.ToUpper(singular[typ])),
			"context": map[string][]string{"ids": missing},
		}}
	}
	writeJSON(w, status, resp)
}

type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value"`
	HighValue    *string  `json:"highValue"`
	Values       []string `json:"values"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	typ, ok := objType(w, r)
	if !ok {
		return
	}
	if len(body) > 3000 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Search request body exceeds 3000 characters", nil))
		return
	}
	var in struct {
		FilterGroups []struct {
			Filters []filter `json:"filters"`
		} `json:"filterGroups"`
		Sorts []struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		} `json:"sorts"`
		Properties []string `json:"properties"`
		Limit      *int     `json:"limit"`
		After      string   `json:"after"`
		Query      string   `json:"query"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		badJSON(w, err)
		return
	}
	total := 0
	for _, g := range in.FilterGroups {
		total += len(g.Filters)
		if len(g.Filters) > 6 {
			writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Too many filters in a filter group (max 6)", nil))
			return
		}
	}
	if len(in.FilterGroups) > 5 || total > 18 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Too many filter groups or filters (max 5 groups, 18 filters)", nil))
		return
	}
	if len(in.Sorts) > 1 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Only one sort is allowed", nil))
		return
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 0 || limit > 200 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "limit must be between 0 and 200", nil))
		return
	}
	offset, _ := strconv.Atoi(in.After)
	if offset+limit > 10000 {
		writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Search results are limited to 10,000 records", nil))
		return
	}
	for _, g := range in.FilterGroups {
		for _, f := range g.Filters {
			if !validOperator(f.Operator) {
				writeJSON(w, http.StatusBadRequest, errBody("VALIDATION_ERROR", "Invalid operator: "+f.Operator, nil))
				return
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []*object
	for _, id := range s.order[typ] {
		o := s.objects[typ][id]
		if o == nil || (s.searchLag > 0 && s.now().Sub(o.createdAt) < s.searchLag) {
			continue
		}
		if in.Query != "" && !s.queryMatch(o, in.Query) {
			continue
		}
		ok := len(in.FilterGroups) == 0
		for _, g := range in.FilterGroups {
			all := true
			for _, f := range g.Filters {
				if !s.filterMatch(o, f) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if ok {
			matched = append(matched, o)
		}
	}
	if len(in.Sorts) == 1 {
		p, desc := in.Sorts[0].PropertyName, in.Sorts[0].Direction == "DESCENDING"
		sort.SliceStable(matched, func(i, j int) bool {
			a, _ := s.value(matched[i], p)
			b, _ := s.value(matched[j], p)
			if desc {
				return compare(a, b) > 0
			}
			return compare(a, b) < 0
		})
	}
	props := in.Properties
	results := []map[string]any{}
	for i := offset; i < len(matched) && i < offset+limit; i++ {
		results = append(results, s.render(matched[i], props, nil))
	}
	resp := map[string]any{"total": len(matched), "results": results}
	if offset+limit < len(matched) {
		resp["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(offset + limit)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

func validOperator(op string) bool {
	return slices.Contains([]string{"LT", "LTE", "GT", "GTE", "EQ", "NEQ", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}, op)
}

// compare orders numerically when both parse as numbers or dates.
func compare(a, b string) int {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	ta, oka := parseTimeValue(a)
	tb, okb := parseTimeValue(b)
	if oka && okb {
		return ta.Compare(tb)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// tokens splits a text value for CONTAINS_TOKEN: HTML tags removed, split
// on anything but letters, digits and - _ . @ (how HubSpot tokenizes is
// not documented; this keeps ids such as "ho_01J-x" whole).
func tokens(v string) []string {
	var b strings.Builder
	in := false
	for _, r := range v {
		switch {
		case r == '<':
			in = true
			b.WriteRune(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.FieldsFunc(strings.ToLower(b.String()), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '@' || r > 127)
	})
}

func tokenMatch(v, want string) bool {
	want = strings.ToLower(want)
	for _, t := range tokens(v) {
		t = strings.TrimRight(t, ".")
		switch {
		case strings.HasPrefix(want, "*") && strings.HasSuffix(want, "*") && len(want) > 1:
			if strings.Contains(t, strings.Trim(want, "*")) {
				return true
			}
		case strings.HasSuffix(want, "*"):
			if strings.HasPrefix(t, strings.TrimSuffix(want, "*")) {
				return true
			}
		case strings.HasPrefix(want, "*"):
			if strings.HasSuffix(t, strings.TrimPrefix(want, "*")) {
				return true
			}
		case t == want:
			return true
		}
	}
	return false
}

func (s *Server) queryMatch(o *object, q string) bool {
	for _, v := range o.props {
		if strings.Contains(strings.ToLower(v), strings.ToLower(q)) {
			return true
		}
	}
	return false
}

func (s *Server) filterMatch(o *object, f filter) bool {
	val := func() string {
		if f.Value == nil {
			return ""
		}
		return *f.Value
	}
	if to, ok := strings.CutPrefix(f.PropertyName, "associations."); ok {
		plural := typeAliases[to]
		has := slices.Contains(o.assoc[plural], val())
		switch f.Operator {
		case "EQ", "IN":
			if f.Operator == "IN" {
				for _, v := range f.Values {
					if slices.Contains(o.assoc[plural], v) {
						return true
					}
				}
				return false
			}
			return has
		case "NEQ":
			return !has
		}
		return false
	}
	v, set := s.value(o, f.PropertyName)
	switch f.Operator {
	case "HAS_PROPERTY":
		return set
	case "NOT_HAS_PROPERTY":
		return !set
	case "EQ":
		return set && compare(v, val()) == 0
	case "NEQ":
		return !set || compare(v, val()) != 0
	case "LT":
		return set && compare(v, val()) < 0
	case "LTE":
		return set && compare(v, val()) <= 0
	case "GT":
		return set && compare(v, val()) > 0
	case "GTE":
		return set && compare(v, val()) >= 0
	case "BETWEEN":
		hi := ""
		if f.HighValue != nil {
			hi = *f.HighValue
		}
		return set && compare(v, val()) >= 0 && compare(v, hi) <= 0
	case "IN", "NOT_IN":
		in := false
		for _, x := range f.Values {
			if set && compare(v, x) == 0 {
				in = true
			}
		}
		return in == (f.Operator == "IN")
	case "CONTAINS_TOKEN":
		return set && tokenMatch(v, val())
	case "NOT_CONTAINS_TOKEN":
		return !set || !tokenMatch(v, val())
	}
	return false
}
