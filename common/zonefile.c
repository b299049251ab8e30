/*
 * zonefile.c: RFC 1035 §5 master files.
 *
 * A master file is a sequence of entries (RFC 1035 §5.1):
 *
 *	$ORIGIN <domain-name> [<comment>]
 *	$TTL <ttl> [<comment>]			(RFC 2308 §4)
 *	<domain-name> <rr> [<comment>]
 *	<blank> <rr> [<comment>]		(owner is the previous one)
 *	[<blank>] [<comment>]			(ignored)
 *
 * where <rr> is "[<TTL>] [<class>] <type> <RDATA>" with TTL and class in
 * either order. An entry ends at a newline outside parentheses; "(" and ")"
 * let one entry span lines. ";" starts a comment to the end of the line,
 * except inside a quoted string. "\X" makes X ordinary (so "\;", "\(", "\""
 * are data) and "\DDD" is an octet; those are left for dname.c and rdata.c
 * to decode, this file only has to know where tokens and entries end.
 *
 * Shape of the parser: one pass over the caller's buffer, no copy of the
 * file, no allocation per record. A 256-entry class table drives the scanner,
 * so every byte costs one table load and a compare. The RDATA of an entry
 * that sits on one line is handed to rdata_parse_text() as a slice of the
 * input (zero copy); only an entry broken by parentheses is joined into a
 * scratch buffer (grown on demand, reused): the runs of tokens between line
 * breaks and parentheses, separated by one blank. A run table maps offsets in the joined
 * text back to lines and columns, so a complaint of rdata.c about byte N
 * still names the line and column where the user has to look. The owner
 * text of the previous entry is remembered, and an identical owner (the
 * usual case in generated files) is not parsed again.
 *
 * Choices that are ours where RFC 1035 is silent or loose:
 *  - "(" cannot nest, a quoted string cannot span lines, a backslash cannot
 *    end a line: each is an error, not a guess.
 *  - A '"' starts a quoted run anywhere in a token; the whole token, quotes
 *    included, goes verbatim to rdata.c, which decides what it means.
 *  - Class IN (or CLASS1, RFC 3597 §5) is the only class: we serve IN only,
 *    so CH/HS/CS/CLASSn data is refused by name rather than dropped.
 *  - Omitted TTL: the last $TTL (RFC 2308 §4), else the previous record's
 *    TTL (RFC 1035 §5.1), else the caller's default: the "mechanism, not
 *    being the value of the MINIMUM field" RFC 2308 §4 asks for. With none
 *    of those it is an error; the SOA MINIMUM is never used as a TTL.
 *  - TTL units follow BIND: "1w2d3h4m5s" in any order, case-insensitive, a
 *    unit may repeat (the parts add up), but once units are used every number
 *    needs one ("1h30" is an error, as in BIND).
 *  - Meta types (RFC 6895 §3.1: OPT and 128..255) and TYPE0 are refused: they
 *    do not describe data and a zone holding one could never be served.
 *  - $INCLUDE is refused (ERR_INCLUDE): the importer must not read files the
 *    zone names. $GENERATE is refused with a clear message.
 *
 * Positions: lines and columns are 1-based, a column counts bytes (a tab is
 * one). A record's line is the line where its entry starts.
 *
 * Limits: the RDATA text of one record (what rdata_parse_text() receives, a
 * line break inside parentheses counting as one blank) is at most
 * ZF_RDATA_TEXT_MAX bytes; names are bounded by dname.c (255 octets after
 * the origin is appended).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "err.h"
#include "rdata.h"
#include "zonefile.h"

#define TTL_MAX 2147483647u /* RFC 2181 §8 */

/* Byte classes of the scanner; C_WORD (0) is every byte that is data. */
enum {
	C_WORD = 0,
	C_BLANK,  /* space, tab, CR (so CRLF files read like LF files) */
	C_NL,	  /* ends an entry outside parentheses */
	C_SEMI,	  /* comment to end of line */
	C_LPAR,	  /* entry continues across lines */
	C_RPAR,	  /* ... until here */
	C_QUOTE,  /* quoted run: blanks, ';' and parentheses are data */
	C_BSLASH, /* escapes the next byte */
};

static const uint8_t cls[256] = {
    [' '] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK, ['\n'] = C_NL,	    [';'] = C_SEMI,
    ['('] = C_LPAR,  [')'] = C_RPAR,   ['"'] = C_QUOTE,	 ['\\'] = C_BSLASH,
};

/* One token: a slice of the input. */
struct tok {
	const char *s;	/* first byte */
	size_t len;	/* bytes, quotes and escapes included */
	int line;	/* 1-based line of s */
	const char *ls; /* start of that line, for the column */
	bool quoted;	/* contains a quoted run */
};

/* A run of RDATA tokens that stood together on one line. */
struct run {
	size_t off;	/* offset in the joined text */
	const char *s;	/* where it starts in the input */
	size_t len;	/* its length */
	int line;	/* its line */
	const char *ls; /* start of that line */
};

struct zf_parser {
	const char *p, *end; /* scan position and end of input */
	int line;	     /* line of p */
	const char *ls;	     /* start of the line of p */
	bool paren;	     /* inside "( ... )" */
	int paren_line;	     /* where the open "(" was */
	int paren_col;
	bool brk;     /* a line break or parenthesis since the last token */
	int eol_line; /* where the last entry ended, for "missing ..." */
	int eol_col;
	struct zf_error *err;
	zf_rr_cb cb;
	void *arg;
	bool stopped; /* the callback asked to stop */

	uint8_t origin[DNAME_MAXLEN];
	bool have_origin;
	uint8_t owner[DNAME_MAXLEN];
	bool have_owner;
	const char *owner_tok; /* text the owner was parsed from (cache) */
	size_t owner_toklen;

	bool have_dollar_ttl;
	uint32_t dollar_ttl;
	bool have_prev_ttl;
	uint32_t prev_ttl;
	uint32_t default_ttl;

	char *text; /* joined RDATA of multi-line entries */
	size_t text_cap;
	struct run *runs;
	size_t nruns, runs_cap;

	uint8_t rdata[RDATA_MAXLEN];
};

static inline int col_of(const char *p, const char *ls)
{
	size_t c = (size_t)(p - ls) + 1;

	return c > 0x7fffffff ? 0x7fffffff : (int)c;
}

__attribute__((format(printf, 5, 6))) static int fail_at(struct zf_parser *ps, int code, int line,
							 int col, const char *fmt, ...)
{
	va_list ap;

	ps->err->line = line;
	ps->err->col = col;
	ps->err->code = code;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Token text for a message: at most 40 bytes, non-printables as '?'. */
static const char *show(char *buf, size_t cap, const char *s, size_t len)
{
	size_t n = 0, max = cap - 4;

	for (size_t i = 0; i < len && n < max; i++)
		buf[n++] = (s[i] >= ' ' && s[i] < 0x7f) ? s[i] : '?';
	if (len > max) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

#define SHOWBUF	   44
#define SHOW(b, t) show(b, sizeof(b), (t)->s, (t)->len)

static void newline(struct zf_parser *ps, const char *next)
{
	ps->line++;
	ps->ls = next;
}

/*
 * Next token of the current entry: 1 with *t filled, 0 at the end of the
 * entry (newline outside parentheses, or end of input), or an error.
 */
static int next_token(struct zf_parser *ps, struct tok *t)
{
	const char *p = ps->p, *end = ps->end;

	for (;;) {
		if (p == end) {
			ps->p = p;
			if (ps->paren)
				return fail_at(ps, ERR_SYNTAX, ps->paren_line, ps->paren_col,
					       "'(' is never closed");
			ps->eol_line = ps->line;
			ps->eol_col = col_of(p, ps->ls);
			return 0;
		}
		switch (cls[(uint8_t)*p]) {
		case C_BLANK:
			p++;
			continue;
		case C_NL:
			if (!ps->paren) {
				ps->eol_line = ps->line;
				ps->eol_col = col_of(p, ps->ls);
				ps->p = p + 1;
				newline(ps, p + 1);
				return 0;
			}
			p++;
			newline(ps, p);
			ps->brk = true;
			continue;
		case C_SEMI: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl : end;
			continue;
		}
		case C_LPAR:
			if (ps->paren)
				return fail_at(
				    ps, ERR_SYNTAX, ps->line, col_of(p, ps->ls),
				    "nested '(' (the one at line %d col %d is still open)",
				    ps->paren_line, ps->paren_col);
			ps->paren = true;
			ps->paren_line = ps->line;
			ps->paren_col = col_of(p, ps->ls);
			ps->brk = true;
			p++;
			continue;
		case C_RPAR:
			if (!ps->paren)
				return fail_at(ps, ERR_SYNTAX, ps->line, col_of(p, ps->ls),
					       "')' without '('");
			ps->paren = false;
			ps->brk = true;
			p++;
			continue;
		default:
			break;
		}
		break;
	}

	/* A word: up to a blank, newline, ';' or parenthesis outside quotes. */
	t->s = p;
	t->line = ps->line;
	t->ls = ps->ls;
	t->quoted = false;
	while (p < end) {
		uint8_t c = cls[(uint8_t)*p];

		if (c == C_WORD) {
			p++;
		} else if (c == C_BSLASH) {
			if (p + 1 == end || p[1] == '\n')
				return fail_at(ps, ERR_SYNTAX, ps->line, col_of(p, ps->ls),
					       "backslash at end of line");
			p += 2;
		} else if (c == C_QUOTE) {
			const char *q = p + 1;

			for (;;) {
				if (q == end || *q == '\n')
					return fail_at(ps, ERR_SYNTAX, ps->line, col_of(p, ps->ls),
						       "quoted string not closed on its line");
				if (*q == '"')
					break;
				if (*q == '\\') {
					if (q + 1 == end || q[1] == '\n')
						return fail_at(ps, ERR_SYNTAX, ps->line,
							       col_of(q, ps->ls),
							       "backslash at end of line");
					q++;
				}
				q++;
			}
			t->quoted = true;
			p = q + 1;
		} else {
			break;
		}
	}
	t->len = (size_t)(p - t->s);
	ps->p = p;
	return 1;
}

/* After the arguments of a directive only a comment may follow. */
static int expect_end(struct zf_parser *ps, const char *what)
{
	struct tok t;
	char b[SHOWBUF];
	int rc = next_token(ps, &t);

	if (rc <= 0)
		return rc;
	return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls), "unexpected '%s' after %s",
		       SHOW(b, &t), what);
}

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->len == n && strncasecmp(t->s, word, n) == 0;
}

/* Parses a name token; on error fills ps->err naming what it was for. */
static int parse_name(struct zf_parser *ps, const struct tok *t, const char *what,
		      uint8_t out[DNAME_MAXLEN])
{
	char b[SHOWBUF];
	int col = col_of(t->s, t->ls);
	int n;

	if (t->quoted)
		return fail_at(ps, ERR_SYNTAX, t->line, col, "%s cannot be a quoted string", what);
	n = dname_parse_text(t->s, t->len, ps->have_origin ? ps->origin : NULL, out);
	if (n >= 0) {
		dname_lower(out);
		return n;
	}
	switch (n) {
	case ERR_RELATIVE_NAME:
		return fail_at(ps, n, t->line, col, "%s '%s' is relative but no $ORIGIN is set",
			       what, SHOW(b, t));
	case ERR_NAME_TOO_LONG:
		return fail_at(ps, n, t->line, col,
			       "%s '%s' is longer than 255 octets (with the origin appended)", what,
			       SHOW(b, t));
	case ERR_LABEL_TOO_LONG:
		return fail_at(ps, n, t->line, col, "%s '%s' has a label longer than 63 octets",
			       what, SHOW(b, t));
	default:
		return fail_at(ps, n, t->line, col, "%s '%s' is not a valid name", what,
			       SHOW(b, t));
	}
}

static int ttl_token(struct zf_parser *ps, const struct tok *t, uint32_t *ttl)
{
	char b[SHOWBUF];
	int rc = zf_parse_ttl(t->s, t->len, ttl);

	if (rc == ERR_RANGE)
		return fail_at(ps, rc, t->line, col_of(t->s, t->ls),
			       "TTL '%s' is out of range 0..2147483647", SHOW(b, t));
	if (rc < 0)
		return fail_at(ps, rc, t->line, col_of(t->s, t->ls),
			       "bad TTL '%s' (seconds, or units like 1h30m)", SHOW(b, t));
	return 0;
}

static int parse_directive(struct zf_parser *ps)
{
	struct tok d, a;
	char b[SHOWBUF];
	int rc;

	if ((rc = next_token(ps, &d)) <= 0)
		return rc;
	if (tok_is(&d, "$ORIGIN")) {
		uint8_t tmp[DNAME_MAXLEN];

		if ((rc = next_token(ps, &a)) < 0)
			return rc;
		if (rc == 0)
			return fail_at(ps, ERR_SYNTAX, ps->eol_line, ps->eol_col,
				       "$ORIGIN needs a name");
		/* A relative $ORIGIN is relative to the current one. */
		if ((rc = parse_name(ps, &a, "$ORIGIN", tmp)) < 0)
			return rc;
		memcpy(ps->origin, tmp, (size_t)rc);
		ps->have_origin = true;
		ps->owner_tok = NULL; /* the same owner text now means another name */
		return expect_end(ps, "$ORIGIN name");
	}
	if (tok_is(&d, "$TTL")) {
		if ((rc = next_token(ps, &a)) < 0)
			return rc;
		if (rc == 0)
			return fail_at(ps, ERR_SYNTAX, ps->eol_line, ps->eol_col,
				       "$TTL needs a value");
		if ((rc = ttl_token(ps, &a, &ps->dollar_ttl)) < 0)
			return rc;
		ps->have_dollar_ttl = true;
		return expect_end(ps, "$TTL value");
	}
	if (tok_is(&d, "$INCLUDE"))
		return fail_at(ps, ERR_INCLUDE, d.line, col_of(d.s, d.ls),
			       "$INCLUDE is not supported: merge the included file into this one");
	if (tok_is(&d, "$GENERATE"))
		return fail_at(ps, ERR_SYNTAX, d.line, col_of(d.s, d.ls),
			       "$GENERATE is not supported: expand the records first");
	return fail_at(ps, ERR_SYNTAX, d.line, col_of(d.s, d.ls), "unknown directive '%s'",
		       SHOW(b, &d));
}

/* 1: IN, -1: a class we refuse, 0: not a class token. */
static int class_of(const struct tok *t)
{
	/* Two-letter mnemonics are checked inline: this runs for every record.
	 * c | 0x20 folds case exactly for letters and maps no other byte onto
	 * the letters compared. */
	if (t->len == 2) {
		char a = (char)(t->s[0] | 0x20), b = (char)(t->s[1] | 0x20);

		if (a == 'i' && b == 'n')
			return 1;
		if ((a == 'c' && (b == 'h' || b == 's')) || (a == 'h' && b == 's'))
			return -1;
		return 0;
	}
	if (t->len > 5 && strncasecmp(t->s, "CLASS", 5) == 0) {
		uint32_t v = 0;

		for (size_t i = 5; i < t->len; i++) {
			if (t->s[i] < '0' || t->s[i] > '9' || i > 10)
				return 0;
			v = v * 10 + (uint32_t)(t->s[i] - '0');
		}
		if (v > 65535)
			return 0;
		return v == RRCLASS_IN ? 1 : -1;
	}
	return 0;
}

/* RFC 6895 §3.1: TYPE0 is reserved, OPT and 128..255 are meta/query types. */
static bool is_data_type(int type)
{
	return type != 0 && type != RRTYPE_OPT && (type < 128 || type > 255);
}

static int grow_text(struct zf_parser *ps, size_t need)
{
	size_t cap = ps->text_cap ? ps->text_cap : 4096;
	char *n;

	while (cap < need)
		cap *= 2;
	if ((n = realloc(ps->text, cap)) == NULL)
		return ERR_NOMEM;
	ps->text = n;
	ps->text_cap = cap;
	return 0;
}

/* Appends a run to the joined RDATA text (one blank between runs). */
static int add_run(struct zf_parser *ps, const char *s, size_t len, int line, const char *ls)
{
	size_t off = ps->nruns ? ps->runs[ps->nruns - 1].off + ps->runs[ps->nruns - 1].len + 1 : 0;
	struct run *r;

	if (off + len > ZF_RDATA_TEXT_MAX)
		return fail_at(ps, ERR_RANGE, line, col_of(s, ls),
			       "record data longer than %d bytes", ZF_RDATA_TEXT_MAX);
	if (off + len + 1 > ps->text_cap && grow_text(ps, off + len + 1) < 0)
		return fail_at(ps, ERR_NOMEM, line, col_of(s, ls), "out of memory");
	if (ps->nruns == ps->runs_cap) {
		size_t cap = ps->runs_cap ? 2 * ps->runs_cap : 16;
		struct run *n = realloc(ps->runs, cap * sizeof(*n));

		if (n == NULL)
			return fail_at(ps, ERR_NOMEM, line, col_of(s, ls), "out of memory");
		ps->runs = n;
		ps->runs_cap = cap;
	}
	if (off > 0)
		ps->text[off - 1] = ' ';
	memcpy(ps->text + off, s, len);
	r = &ps->runs[ps->nruns++];
	r->off = off;
	r->s = s;
	r->len = len;
	r->line = line;
	r->ls = ls;
	return 0;
}

/* Position in the input of byte off of the joined text. */
static void locate_joined(const struct zf_parser *ps, size_t off, int *line, int *col)
{
	const struct run *r = &ps->runs[0];

	for (size_t i = 1; i < ps->nruns && ps->runs[i].off <= off; i++)
		r = &ps->runs[i];
	if (off > r->off + r->len)
		off = r->off + r->len;
	*line = r->line;
	*col = col_of(r->s + (off - r->off), r->ls);
}

static int parse_entry(struct zf_parser *ps)
{
	struct tok t;
	char b[SHOWBUF], tb[16];
	int line0 = ps->line, rc, type, n;
	bool has_owner, have_ttl = false, have_class = false;
	uint32_t ttl = 0;
	const char *rs = NULL, *re = NULL, *rls = NULL, *text;
	int rline = 0;
	size_t len, tl;
	struct text_err te;

	if (*ps->p == '$')
		return parse_directive(ps);
	has_owner = cls[(uint8_t)*ps->p] != C_BLANK;
	if ((rc = next_token(ps, &t)) <= 0)
		return rc; /* blank or comment-only line */

	if (has_owner) {
		if (ps->owner_tok == NULL || t.len != ps->owner_toklen ||
		    memcmp(t.s, ps->owner_tok, t.len) != 0) {
			if ((rc = parse_name(ps, &t, "owner", ps->owner)) < 0)
				return rc;
			ps->owner_tok = t.s;
			ps->owner_toklen = t.len;
		}
		ps->have_owner = true;
		if ((rc = next_token(ps, &t)) < 0)
			return rc;
		if (rc == 0)
			return fail_at(ps, ERR_SYNTAX, ps->eol_line, ps->eol_col,
				       "missing type after owner");
	} else if (!ps->have_owner) {
		return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
			       "no owner: the first record must name one in column 1");
	}

	/* [<TTL>] [<class>] or [<class>] [<TTL>], then the type (RFC 1035 §5.1). */
	for (;;) {
		int k;

		if (t.quoted)
			return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
				       "unexpected quoted string '%s' before the type",
				       SHOW(b, &t));
		if (t.s[0] >= '0' && t.s[0] <= '9') {
			if (have_ttl)
				return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
					       "TTL given twice");
			if ((rc = ttl_token(ps, &t, &ttl)) < 0)
				return rc;
			have_ttl = true;
		} else if ((k = class_of(&t)) != 0) {
			if (k < 0)
				return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
					       "class %s is not supported (only IN)", SHOW(b, &t));
			if (have_class)
				return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
					       "class given twice");
			have_class = true;
		} else {
			break;
		}
		if ((rc = next_token(ps, &t)) < 0)
			return rc;
		if (rc == 0)
			return fail_at(ps, ERR_SYNTAX, ps->eol_line, ps->eol_col, "missing type");
	}
	type = rrtype_parse(t.s, t.len);
	if (type < 0)
		return fail_at(ps, ERR_UNKNOWN_TYPE, t.line, col_of(t.s, t.ls), "unknown type '%s'",
			       SHOW(b, &t));
	if (!is_data_type(type)) {
		rrtype_print((uint16_t)type, tb, sizeof(tb));
		return fail_at(ps, ERR_INVALID, t.line, col_of(t.s, t.ls),
			       "type %s cannot appear in a zone file", tb);
	}

	if (!have_ttl) {
		if (ps->have_dollar_ttl)
			ttl = ps->dollar_ttl;
		else if (ps->have_prev_ttl)
			ttl = ps->prev_ttl;
		else if (ps->default_ttl)
			ttl = ps->default_ttl;
		else
			return fail_at(ps, ERR_SYNTAX, t.line, col_of(t.s, t.ls),
				       "no TTL: give one or set $TTL first");
	}

	/*
	 * RDATA: collect runs of tokens. While everything stays on one line
	 * the text is a slice of the input; a parenthesis or line break
	 * starts a new run and the runs are joined in ps->text.
	 */
	ps->brk = false;
	ps->nruns = 0;
	rs = re = t.s + t.len; /* empty RDATA: errors point after the type */
	rline = t.line;
	rls = t.ls;
	bool any = false;
	for (;;) {
		struct tok d;

		if ((rc = next_token(ps, &d)) < 0)
			return rc;
		if (rc == 0)
			break;
		if (any && !ps->brk) {
			re = d.s + d.len;
		} else {
			if (any && (rc = add_run(ps, rs, (size_t)(re - rs), rline, rls)) < 0)
				return rc;
			rs = d.s;
			re = d.s + d.len;
			rline = d.line;
			rls = d.ls;
			any = true;
		}
		ps->brk = false;
	}
	if (ps->nruns == 0) {
		text = rs;
		len = (size_t)(re - rs);
		if (len > ZF_RDATA_TEXT_MAX)
			return fail_at(ps, ERR_RANGE, rline, col_of(rs, rls),
				       "record data longer than %d bytes", ZF_RDATA_TEXT_MAX);
	} else {
		if ((rc = add_run(ps, rs, (size_t)(re - rs), rline, rls)) < 0)
			return rc;
		text = ps->text;
		len = ps->runs[ps->nruns - 1].off + ps->runs[ps->nruns - 1].len;
	}

	te.offset = 0;
	te.msg[0] = '\0';
	n = rdata_parse_text((uint16_t)type, text, len, ps->have_origin ? ps->origin : NULL,
			     ps->rdata, sizeof(ps->rdata), &te);
	if (n < 0) {
		int line, col;

		if (ps->nruns == 0) {
			size_t off = te.offset > len ? len : te.offset;

			line = rline;
			col = col_of(rs + off, rls);
		} else {
			locate_joined(ps, te.offset, &line, &col);
		}
		/* rdata.c's messages name the type ("MX preference: ..."); add
		 * it when one does not. */
		tl = (size_t)rrtype_print((uint16_t)type, tb, sizeof(tb));
		if (te.msg[0] == '\0')
			return fail_at(ps, n, line, col, "%s data: %s", tb, err_str(n));
		if (strncmp(te.msg, tb, tl) == 0 && te.msg[tl] == ' ')
			return fail_at(ps, n, line, col, "%s", te.msg);
		return fail_at(ps, n, line, col, "%s: %s", tb, te.msg);
	}

	ps->prev_ttl = ttl;
	ps->have_prev_ttl = true;
	{
		struct zf_rr rr = {
		    .owner = ps->owner,
		    .type = (uint16_t)type,
		    .rclass = RRCLASS_IN,
		    .ttl = ttl,
		    .rdata = ps->rdata,
		    .rdlen = (uint16_t)n,
		    .line = line0,
		};

		if ((rc = ps->cb(ps->arg, &rr)) != 0)
			ps->stopped = true;
		return rc;
	}
}

int zf_parse(const char *text, size_t len, const uint8_t *origin, uint32_t default_ttl, zf_rr_cb cb,
	     void *arg, struct zf_error *err)
{
	struct zf_error dummy;
	struct zf_parser *ps;
	int rc = 0;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (len == 0)
		return 0;
	if (text == NULL) {
		err->code = ERR_INVALID;
		snprintf(err->msg, sizeof(err->msg), "no text");
		return ERR_INVALID;
	}
	/* One allocation per call (it holds the 64 KiB RDATA buffer), never
	 * one per record. */
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		err->code = ERR_NOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return ERR_NOMEM;
	}
	ps->p = text;
	ps->end = text + len;
	ps->line = 1;
	ps->ls = text;
	ps->err = err;
	ps->cb = cb;
	ps->arg = arg;
	ps->default_ttl = default_ttl > TTL_MAX ? 0 : default_ttl;
	if (origin != NULL) {
		int n = dname_check(origin, DNAME_MAXLEN);

		if (n < 0) {
			rc = fail_at(ps, ERR_INVALID, 0, 0,
				     "the initial origin is not a valid name");
			goto out;
		}
		memcpy(ps->origin, origin, (size_t)n);
		dname_lower(ps->origin);
		ps->have_origin = true;
	}
	while (ps->p < ps->end) {
		if ((rc = parse_entry(ps)) != 0)
			break;
	}
out:
	free(ps->text);
	free(ps->runs);
	free(ps);
	return rc;
}

/* Writes v in decimal; returns the length (at most 10). */
static size_t utoa(uint32_t v, char *out)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

int zf_print_rr(const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rd,
		uint16_t rdlen, char *buf, size_t cap)
{
	char mid[48];
	size_t o, m;
	int n;

	if (owner == NULL || buf == NULL || (rd == NULL && rdlen > 0))
		return ERR_MALFORMED;
	if (dname_check(owner, DNAME_MAXLEN) < 0)
		return ERR_MALFORMED;
	if ((n = dname_print(owner, buf, cap)) < 0)
		return n;
	o = (size_t)n;
	/* " <ttl> IN <type> " */
	m = 0;
	mid[m++] = ' ';
	m += utoa(ttl, mid + m);
	memcpy(mid + m, " IN ", 4);
	m += 4;
	n = rrtype_print(type, mid + m, sizeof(mid) - m - 1);
	if (n <= 0 || (size_t)n >= sizeof(mid) - m - 1)
		return ERR_MALFORMED;
	m += (size_t)n;
	mid[m++] = ' ';
	if (o + m + 1 > cap)
		return ERR_SPACE;
	memcpy(buf + o, mid, m);
	o += m;
	n = rdata_print(type, rd, rdlen, buf + o, cap - o);
	if (n < 0) {
		buf[0] = '\0';
		return n;
	}
	o += (size_t)n;
	if (n == 0)
		o--; /* no RDATA text: drop the blank after the type */
	buf[o] = '\0';
	return (int)o;
}

int zf_parse_ttl(const char *s, size_t len, uint32_t *ttl)
{
	uint64_t total = 0;
	size_t i = 0;
	bool units = false;

	if (s == NULL || len == 0)
		return ERR_SYNTAX;
	while (i < len) {
		uint64_t v = 0, mult;
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > TTL_MAX) {
				/* Keep scanning: a syntax error anywhere wins over range. */
				v = (uint64_t)TTL_MAX + 1;
			}
			i++;
		}
		if (i == start)
			return ERR_SYNTAX;
		if (i == len) {
			/* A bare number: the whole TTL, unless units came before
			 * ("1h30" is ambiguous; BIND refuses it too). */
			if (units)
				return ERR_SYNTAX;
			total = v;
			break;
		}
		switch (s[i] | 0x20) {
		case 'w':
			mult = 604800;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'm':
			mult = 60;
			break;
		case 's':
			mult = 1;
			break;
		default:
			return ERR_SYNTAX;
		}
		units = true;
		i++;
		/* v <= 2^31 and mult <= 604800: no overflow; total stays bounded
		 * because we clamp it after every addition. */
		total += v * mult;
		if (total > TTL_MAX)
			total = (uint64_t)TTL_MAX + 1;
	}
	if (total > TTL_MAX)
		return ERR_RANGE;
	if (ttl)
		*ttl = (uint32_t)total;
	return 0;
}
