package salesforcetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// record is one sObject: canonical field name → value (string, float64,
// bool or nil).
type record map[string]any

type parentRel struct {
	name    string   // canonical relationship name, e.g. "Account"
	field   string   // the lookup field, e.g. "AccountId"
	targets []string // object types it can point at (polymorphic: several)
}

type childRel struct {
	name   string // e.g. "OpportunityContactRoles"
	object string // child object
	field  string // the child's lookup to the parent
}

type objSchema struct {
	name     string
	prefix   string
	fields   map[string]string // lower → canonical
	readOnly map[string]bool
	parents  map[string]parentRel // lower relationship name →
	children map[string]childRel  // lower relationship name →
}

func newSchema(name, prefix string, fields ...string) *objSchema {
	s := &objSchema{name: name, prefix: prefix, fields: map[string]string{}, readOnly: map[string]bool{},
		parents: map[string]parentRel{}, children: map[string]childRel{}}
	for _, f := range append([]string{"Id", "CreatedDate", "LastModifiedDate", "IsDeleted", "SystemModstamp"}, fields...) {
		s.fields[strings.ToLower(f)] = f
	}
	for _, f := range []string{"Id", "CreatedDate", "LastModifiedDate", "IsDeleted", "SystemModstamp"} {
		s.readOnly[f] = true
	}
	return s
}

func (s *objSchema) parent(name, field string, targets ...string) *objSchema {
	s.parents[strings.ToLower(name)] = parentRel{name, field, targets}
	return s
}

func (s *objSchema) child(name, object, field string) *objSchema {
	s.children[strings.ToLower(name)] = childRel{name, object, field}
	return s
}

// schemas is the subset of the Salesforce data model the fake serves.
func schemas(tierField, handoffField string) map[string]*objSchema {
	m := map[string]*objSchema{}
	add := func(s *objSchema) { m[strings.ToLower(s.name)] = s }
	add(newSchema("User", "005", "Name", "FirstName", "LastName", "Email", "Username", "Title", "IsActive", "Alias", "TimeZoneSidKey").
		parent("Manager", "ManagerId", "User"))
	m["user"].fields["managerid"] = "ManagerId"
	add(newSchema("Group", "00G", "Name", "Type", "Email", "DeveloperName"))
	add(newSchema("Account", "001", "Name", "Website", "Industry", "Type", "NumberOfEmployees", "AnnualRevenue",
		"OwnerId", "BillingCountry", tierField).
		parent("Owner", "OwnerId", "User").
		child("Contacts", "Contact", "AccountId").
		child("Opportunities", "Opportunity", "AccountId"))
	// Handoff_Owner_State__c is the custom field an org creates for
	// SALESFORCE_OWNER_STATE_FIELD (on Contact and Lead).
	add(newSchema("Contact", "003", "Name", "FirstName", "LastName", "Email", "Title", "Phone", "OwnerId", "AccountId", "Handoff_Owner_State__c").
		parent("Owner", "OwnerId", "User").
		parent("Account", "AccountId", "Account").
		child("OpportunityContactRoles", "OpportunityContactRole", "ContactId"))
	add(newSchema("Lead", "00Q", "Name", "FirstName", "LastName", "Email", "Title", "Company", "Website", "Industry",
		"NumberOfEmployees", "AnnualRevenue", "OwnerId", "Status", "IsConverted", "ConvertedAccountId",
		"ConvertedContactId", "ConvertedOpportunityId", "Handoff_Owner_State__c").
		parent("Owner", "OwnerId", "User", "Group"))
	add(newSchema("Opportunity", "006", "Name", "StageName", "Probability", "IsClosed", "IsWon", "Amount", "CloseDate",
		"OwnerId", "AccountId", "ForecastCategory", "ForecastCategoryName", "Type").
		parent("Owner", "OwnerId", "User").
		parent("Account", "AccountId", "Account").
		child("OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"))
	add(newSchema("OpportunityContactRole", "00K", "ContactId", "OpportunityId", "Role", "IsPrimary").
		parent("Contact", "ContactId", "Contact").
		parent("Opportunity", "OpportunityId", "Opportunity"))
	task := newSchema("Task", "00T", "Subject", "Description", "Status", "IsClosed", "Priority", "OwnerId", "WhoId",
		"WhatId", "ActivityDate", "ReminderDateTime", "IsReminderSet", "CompletedDateTime", "CallDisposition", "TaskSubtype", "Type", handoffField).
		parent("Owner", "OwnerId", "User").
		parent("Who", "WhoId", "Contact", "Lead").
		parent("What", "WhatId", "Account", "Opportunity")
	task.readOnly["IsClosed"] = true
	task.readOnly["CompletedDateTime"] = true
	add(task)
	return m
}

func invalidField(obj, f string) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", f, obj)}
}

func invalidRel(obj, r string) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names. (entity '%s')", r, obj)}
}

// db is the fake org's data.
type db struct {
	schemas map[string]*objSchema
	recs    map[string]map[string]record // object (canonical) → id → record
	version string                       // API version of the current request, for attributes.url
}

func (d *db) schema(obj string) (*objSchema, error) {
	s, ok := d.schemas[strings.ToLower(obj)]
	if !ok {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", obj)}
	}
	return s, nil
}

// byID finds a record of one of the types.
func (d *db) byID(id string, types ...string) (string, record) {
	if len(id) < 15 {
		return "", nil
	}
	for _, t := range types {
		for rid, r := range d.recs[t] {
			if rid[:15] == id[:15] {
				return t, r
			}
		}
	}
	return "", nil
}

// checkPath validates a field path on s (for select lists and WHERE).
func (d *db) checkPath(s *objSchema, path []string) error {
	if len(path) == 1 {
		if _, ok := s.fields[strings.ToLower(path[0])]; !ok {
			return invalidField(s.name, path[0])
		}
		return nil
	}
	rel, ok := s.parents[strings.ToLower(path[0])]
	if !ok {
		return invalidRel(s.name, path[0])
	}
	// Polymorphic relationships expose the fields common to the "Name"
	// object; the fake accepts a field any target has.
	var firstErr error
	for _, t := range rel.targets {
		err := d.checkPath(d.schemas[strings.ToLower(t)], path[1:])
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// resolve reads a field path from a record.
func (d *db) resolve(s *objSchema, r record, path []string) any {
	if r == nil {
		return nil
	}
	if len(path) == 1 {
		return r[s.fields[strings.ToLower(path[0])]]
	}
	rel := s.parents[strings.ToLower(path[0])]
	id, _ := r[rel.field].(string)
	t, pr := d.byID(id, rel.targets...)
	if pr == nil {
		return nil
	}
	return d.resolve(d.schemas[strings.ToLower(t)], pr, path[1:])
}

func (d *db) attributes(obj string, r record) map[string]any {
	return map[string]any{"type": obj, "url": "/services/data/" + d.version + "/sobjects/" + obj + "/" + fmt.Sprint(r["Id"])}
}

// run executes a parsed query; parentFilter restricts a sub-query to the
// children of one parent.
func (d *db) run(q *query, parentField, parentID string) ([]map[string]any, error) {
	s, err := d.schema(q.from)
	if err != nil {
		return nil, err
	}
	for _, it := range q.fields {
		if it.sub != nil {
			continue
		}
		if err := d.checkPath(s, it.path); err != nil {
			return nil, err
		}
	}
	if err := d.checkCond(s, q.where); err != nil {
		return nil, err
	}
	if q.orderBy != nil {
		if err := d.checkPath(s, q.orderBy); err != nil {
			return nil, err
		}
	}
	var subRels []childRel
	for _, it := range q.fields {
		if it.sub == nil {
			continue
		}
		cr, ok := s.children[strings.ToLower(it.sub.from)]
		if !ok {
			return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("Didn't understand relationship '%s' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", it.sub.from)}
		}
		subRels = append(subRels, cr)
	}

	var matched []record
	for _, r := range d.recs[s.name] {
		if parentField != "" {
			if v, _ := r[parentField].(string); len(v) < 15 || len(parentID) < 15 || v[:15] != parentID[:15] {
				continue
			}
		}
		ok, err := d.eval(s, r, q.where)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, r)
		}
	}
	// Stable base order (by id), then ORDER BY.
	slices.SortFunc(matched, func(a, b record) int { return cmp.Compare(fmt.Sprint(a["Id"]), fmt.Sprint(b["Id"])) })
	if q.orderBy != nil {
		slices.SortStableFunc(matched, func(a, b record) int {
			c := compareVals(d.resolve(s, a, q.orderBy), d.resolve(s, b, q.orderBy))
			if q.desc {
				return -c
			}
			return c
		})
	}
	if q.limit >= 0 && len(matched) > q.limit {
		matched = matched[:q.limit]
	}

	out := make([]map[string]any, 0, len(matched))
	sub := 0
	for _, r := range matched {
		o := map[string]any{"attributes": d.attributes(s.name, r)}
		sub = 0
		for _, it := range q.fields {
			if it.sub != nil {
				cr := subRels[sub]
				sub++
				sq := *it.sub
				sq.from = cr.object
				recs, err := d.run(&sq, cr.field, fmt.Sprint(r["Id"]))
				if err != nil {
					return nil, err
				}
				if len(recs) == 0 {
					o[cr.name] = nil
				} else {
					o[cr.name] = map[string]any{"totalSize": len(recs), "done": true, "records": recs}
				}
				continue
			}
			d.project(s, r, it.path, o)
		}
		out = append(out, o)
	}
	return out, nil
}

// project copies a (possibly relationship) field into the output record,
// nesting relationship objects the way the REST API does.
func (d *db) project(s *objSchema, r record, path []string, o map[string]any) {
	if len(path) == 1 {
		f := s.fields[strings.ToLower(path[0])]
		o[f] = r[f]
		return
	}
	rel := s.parents[strings.ToLower(path[0])]
	id, _ := r[rel.field].(string)
	t, pr := d.byID(id, rel.targets...)
	if pr == nil {
		o[rel.name] = nil
		return
	}
	ps := d.schemas[strings.ToLower(t)]
	child, ok := o[rel.name].(map[string]any)
	if !ok {
		child = map[string]any{"attributes": d.attributes(ps.name, pr)}
		o[rel.name] = child
	}
	if len(path) == 2 {
		if _, ok := ps.fields[strings.ToLower(path[1])]; !ok {
			child[path[1]] = nil // a field of another polymorphic target
			return
		}
	}
	d.project(ps, pr, path[1:], child)
}

func (d *db) checkCond(s *objSchema, c cond) error {
	switch c := c.(type) {
	case nil:
		return nil
	case *boolCond:
		if err := d.checkCond(s, c.left); err != nil {
			return err
		}
		return d.checkCond(s, c.right)
	case *cmpCond:
		return d.checkPath(s, c.path)
	}
	return nil
}

func (d *db) eval(s *objSchema, r record, c cond) (bool, error) {
	switch c := c.(type) {
	case nil:
		return true, nil
	case *boolCond:
		l, err := d.eval(s, r, c.left)
		if err != nil {
			return false, err
		}
		if c.and && !l {
			return false, nil
		}
		if !c.and && l {
			return true, nil
		}
		return d.eval(s, r, c.right)
	case *cmpCond:
		v := d.resolve(s, r, c.path)
		switch c.op {
		case "=":
			return equalVals(v, c.vals[0]), nil
		case "!=":
			return !equalVals(v, c.vals[0]), nil
		case "IN", "NOTIN":
			in := slices.ContainsFunc(c.vals, func(x any) bool { return equalVals(v, x) })
			return in == (c.op == "IN"), nil
		case "LIKE":
			vs, _ := v.(string)
			pat, _ := c.vals[0].(string)
			return like(vs, pat), nil
		case "<", ">", "<=", ">=":
			if v == nil || c.vals[0] == nil {
				return false, nil
			}
			k := compareVals(v, c.vals[0])
			switch c.op {
			case "<":
				return k < 0, nil
			case ">":
				return k > 0, nil
			case "<=":
				return k <= 0, nil
			default:
				return k >= 0, nil
			}
		}
		return false, malformed("unsupported operator %s", c.op)
	}
	return false, nil
}

// equalVals compares like SOQL: text case-insensitively, ids on their
// first 15 characters.
func equalVals(a, b any) bool {
	if b == nil {
		return a == nil || a == ""
	}
	if a == nil {
		return false
	}
	switch bv := b.(type) {
	case string:
		as, ok := a.(string)
		if !ok {
			return false
		}
		if looksLikeID(as) && looksLikeID(bv) {
			return as[:15] == bv[:15]
		}
		return strings.EqualFold(as, bv)
	case float64:
		af, ok := a.(float64)
		return ok && af == bv
	case bool:
		ab, ok := a.(bool)
		return ok && ab == bv
	}
	return false
}

func looksLikeID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digit = true
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return digit && s[0] == '0'
}

func compareVals(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch av := a.(type) {
	case float64:
		if bv, ok := b.(float64); ok {
			return cmp.Compare(av, bv)
		}
	case bool:
		if bv, ok := b.(bool); ok {
			if av == bv {
				return 0
			}
			if !av {
				return -1
			}
			return 1
		}
	case string:
		if bv, ok := b.(string); ok {
			return cmp.Compare(strings.ToLower(av), strings.ToLower(bv))
		}
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// like matches SOQL LIKE (% any run, _ one character, case-insensitive).
func like(s, pat string) bool {
	s, pat = strings.ToLower(s), strings.ToLower(pat)
	var match func(si, pi int) bool
	match = func(si, pi int) bool {
		for pi < len(pat) {
			switch pat[pi] {
			case '%':
				for k := si; k <= len(s); k++ {
					if match(k, pi+1) {
						return true
					}
				}
				return false
			case '_':
				if si >= len(s) {
					return false
				}
				si++
				pi++
			case '\\':
				if pi+1 < len(pat) {
					pi++
				}
				fallthrough
			default:
				if si >= len(s) || s[si] != pat[pi] {
					return false
				}
				si++
				pi++
			}
		}
		return si == len(s)
	}
	return match(0, 0)
}
