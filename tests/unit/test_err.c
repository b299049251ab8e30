/*
 * test_err.c: err_str (common/err.c). Every message a daemon logs or mcpd
 * returns to a client ends in err_str(): each enum err value must have its
 * own name, and no value, known or not, may yield NULL (it goes straight
 * into printf "%s").
 *
 * The list of values is read from common/err.h at run time, so a code
 * added to the enum without a name in err.c fails here.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tap.h"

#define MAX_CODES 256

struct code {
	char name[64]; /* "ERR_NOMEM" */
	int value;     /* -1 */
};

/* Reads "ERR_X = -N," lines of err.h's enum; returns how many, or -1. */
static int read_enum(const char *path, struct code *out, int max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0, in_enum = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, name[64];
		int v, len = 0;

		if (strncmp(line, "enum err {", 10) == 0) {
			in_enum = 1;
			continue;
		}
		if (!in_enum)
			continue;
		if (line[0] == '}')
			break;
		while (*p == ' ' || *p == '\t')
			p++;
		if (sscanf(p, "%63[A-Z0-9_] = %d%n", name, &v, &len) != 2 || len == 0)
			continue;
		if (n < max) {
			snprintf(out[n].name, sizeof(out[n].name), "%s", name);
			out[n].value = v;
		}
		n++;
	}
	fclose(f);
	return n;
}

int main(void)
{
	static struct code codes[MAX_CODES];
	const char *srcdir = getenv("SRCDIR");
	char path[1024];
	int n, i, j, unnamed = 0, nulls = 0, clashes = 0, positive = 0;
	const char *unknown = err_str(1);
	/* values around and far outside the enum */
	static const int outside[] = {1, 2, 100, -1000, INT_MIN, INT_MAX, INT_MIN + 1};

	snprintf(path, sizeof(path), "%s/common/err.h", srcdir ? srcdir : ".");
	n = read_enum(path, codes, MAX_CODES);
	if (!ok(n > 0 && n <= MAX_CODES, "read %d codes from %s", n, path))
		return done_testing();
	/* the enum as compiled here must agree with what was parsed */
	ok(n >= 25, "err.h lists at least ERR_OK..ERR_TIMEOUT (%d)", n);
	ok(codes[0].value == ERR_OK && strcmp(codes[0].name, "ERR_OK") == 0,
	   "the first code is ERR_OK = 0");

	ok(unknown != NULL && *unknown, "err_str of a value not in the enum is not NULL: '%s'",
	   unknown ? unknown : "(null)");
	for (i = 0; i < n; i++) {
		const char *s = err_str(codes[i].value);

		if (codes[i].value > 0)
			positive++;
		if (s == NULL || *s == '\0') {
			nulls++;
			printf("#   %s (%d): NULL or empty\n", codes[i].name, codes[i].value);
			continue;
		}
		if (unknown && strcmp(s, unknown) == 0) {
			unnamed++;
			printf("#   %s (%d) has no name of its own: '%s'\n", codes[i].name,
			       codes[i].value, s);
		}
		for (j = 0; j < i; j++) {
			const char *t = err_str(codes[j].value);
			if (t && strcmp(s, t) == 0) {
				clashes++;
				printf("#   %s and %s share the name '%s'\n", codes[i].name,
				       codes[j].name, s);
			}
		}
	}
	is_int(positive, 0, "no error code is positive (callers test r < 0)");
	is_int(nulls, 0, "err_str never returns NULL or \"\" for the %d codes", n);
	is_int(unnamed, 0, "every code has a name other than the fallback");
	is_int(clashes, 0, "no two codes share a name (logs tell them apart)");

	/* spot checks: the names users see in messages */
	is_str(err_str(ERR_OK), "ok", "ERR_OK");
	is_str(err_str(ERR_SYNTAX), "syntax error", "ERR_SYNTAX");
	is_str(err_str(ERR_TIMEOUT), "timed out", "ERR_TIMEOUT, the last code");
	ok(strstr(err_str(ERR_LABEL_TOO_LONG), "63") != NULL, "label error names the 63 limit");
	ok(strstr(err_str(ERR_NAME_TOO_LONG), "255") != NULL, "name error names the 255 limit");

	/* one past the last code and far away: the fallback, never NULL */
	{
		int min = 0;
		for (i = 0; i < n; i++)
			if (codes[i].value < min)
				min = codes[i].value;
		ok(err_str(min - 1) != NULL && strcmp(err_str(min - 1), unknown) == 0,
		   "one past the last code (%d) gives the fallback", min - 1);
	}
	for (i = 0; i < (int)(sizeof(outside) / sizeof(outside[0])); i++)
		ok(err_str(outside[i]) != NULL && strcmp(err_str(outside[i]), unknown) == 0,
		   "err_str(%d) gives the fallback", outside[i]);

	/* err_printf: the (buf, cap) out-parameter convention of dnsd's loaders */
	{
		char buf[8];

		err_printf(NULL, 8, "%s", "ignored"); /* no crash: callers may pass NULL */
		memset(buf, 'x', sizeof(buf));
		err_printf(buf, 0, "%s", "abc");
		ok(buf[0] == 'x', "err_printf with cap 0 writes nothing");
		err_printf(buf, sizeof(buf), "%d-%s", 12, "abcd");
		is_str(buf, "12-abcd", "err_printf: 7 bytes fit a cap of 8");
		err_printf(buf, sizeof(buf), "%d-%s", 12, "abcde");
		is_str(buf, "12-abcd", "err_printf: 8 bytes are cut to 7 and terminated");
	}
	return done_testing();
}
