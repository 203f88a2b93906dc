package sqlstore

import (
	"fmt"
	"strings"

	"github.com/aetherengine/aether/controlplane/store"
)

// query builds a list statement with numbered placeholders.
type query struct {
	where []string
	args  []any
}

// add appends a condition; each %s in cond becomes the next placeholder.
func (q *query) add(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		q.args = append(q.args, a)
		ph[i] = fmt.Sprintf("$%d", len(q.args))
	}
	q.where = append(q.where, fmt.Sprintf(cond, ph...))
}

// in adds "col IN (…)" for values; an empty list matches nothing.
func (q *query) in(col string, values []string) {
	if len(values) == 0 {
		q.where = append(q.where, "1 = 0")
		return
	}
	ph := make([]string, len(values))
	for i, v := range values {
		q.args = append(q.args, v)
		ph[i] = fmt.Sprintf("$%d", len(q.args))
	}
	q.where = append(q.where, col+" IN ("+strings.Join(ph, ", ")+")")
}

// page adds the cursor condition and returns the statement tail (WHERE,
// ORDER BY, LIMIT). It fetches one row more than asked to learn whether a
// next page exists.
func (q *query) page(list string, p store.Page, desc bool) (string, error) {
	after, err := store.DecodeCursor(list, p.Cursor)
	if err != nil {
		return "", err
	}
	if after > 0 {
		if desc {
			q.add("seq < %s", after)
		} else {
			q.add("seq > %s", after)
		}
	}
	var b strings.Builder
	if len(q.where) > 0 {
		b.WriteString(" WHERE " + strings.Join(q.where, " AND "))
	}
	if desc {
		b.WriteString(" ORDER BY seq DESC")
	} else {
		b.WriteString(" ORDER BY seq ASC")
	}
	q.args = append(q.args, p.Limit+1)
	fmt.Fprintf(&b, " LIMIT $%d", len(q.args))
	return b.String(), nil
}

// collect scans rows with scan, keeping at most limit items, and returns the
// cursor of the next page ("" when there is none).
func collect[T any](rows Rows, list string, limit int, scan func(Rows) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	items := make([]T, 0, limit)
	var lastSeq int64
	more := false
	for rows.Next() {
		if len(items) == limit {
			more = true
			break
		}
		item, seq, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, item)
		lastSeq = seq
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if !more {
		return items, "", nil
	}
	return items, store.EncodeCursor(list, lastSeq), nil
}
