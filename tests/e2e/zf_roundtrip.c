/*
 * zf_roundtrip.c: reads a master file through common/zonefile.c and prints
 * every record in our canonical form, one per line. The e2e test compares
 * what external zone tools make of the original and of this output.
 *
 *	zf_roundtrip [-o ORIGIN] [-t DEFAULT_TTL] [-c] FILE
 *
 * -c only counts records and prints the parse time (bench mode). Errors go
 * to stderr as "FILE:LINE:COL: message" and exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dname.h"
#include "err.h"
#include "zonefile.h"

struct out {
	FILE *f;
	unsigned long n;
	int count_only;
	char buf[4 * 65536 + 2048]; /* longest printed record fits */
};

static int print_cb(void *arg, const struct zf_rr *rr)
{
	struct out *o = arg;
	int n;

	o->n++;
	if (o->count_only)
		return 0;
	n = zf_print_rr(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, o->buf, sizeof(o->buf));
	if (n < 0) {
		fprintf(stderr, "line %d: cannot print record: %s\n", rr->line, err_str(n));
		return 2;
	}
	fwrite(o->buf, 1, (size_t)n, o->f);
	fputc('\n', o->f);
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			char *nb;

			cap = cap ? cap * 2 : 1 << 20;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct out o;
	uint8_t origin[DNAME_MAXLEN];
	const uint8_t *orig = NULL;
	unsigned long dttl = 0;
	struct zf_error err;
	struct timespec t0, t1;
	size_t len;
	char *text;
	int c, rc;

	while ((c = getopt(argc, argv, "o:t:c")) != -1) {
		switch (c) {
		case 'o':
			if (dname_parse_text(optarg, strlen(optarg), NULL, origin) < 0) {
				fprintf(stderr, "zf_roundtrip: bad origin '%s'\n", optarg);
				return 2;
			}
			orig = origin;
			break;
		case 't':
			dttl = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o.count_only = 1;
			break;
		default:
			fprintf(stderr, "usage: zf_roundtrip [-o ORIGIN] [-t TTL] [-c] FILE\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: zf_roundtrip [-o ORIGIN] [-t TTL] [-c] FILE\n");
		return 2;
	}
	if ((text = read_file(argv[optind], &len)) == NULL) {
		perror(argv[optind]);
		return 2;
	}
	o.f = stdout;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = zf_parse(text, len, orig, (uint32_t)dttl, print_cb, &o, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "%s:%d:%d: %s (%s)\n", argv[optind], err.line, err.col, err.msg,
			err_str(err.code));
		return 1;
	}
	if (rc > 0)
		return 1;
	if (o.count_only)
		printf("%lu records in %.3f s\n", o.n,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return fflush(stdout) == 0 ? 0 : 1;
}
