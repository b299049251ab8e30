/*
 * msg.h: DNS messages: header, question, resource records, EDNS0 OPT;
 * parsing with every count and length checked against the bytes, and
 * building with name compression and truncation at RRset granularity.
 */
#ifndef MSG_H
#define MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "wire.h"

#define DNS_HEADER_LEN	    12
#define DNS_UDP_MINSIZE	    512	   /* RFC 1035 §4.2.1, and the EDNS floor (RFC 6891 §6.2.5) */
#define DNS_EDNS_OUR_SIZE   1232   /* the 2020 DNS flag day value */
#define DNS_TCP_MAXSIZE	    65535  /* two-octet length prefix (RFC 1035 §4.2.2) */
#define DNS_COMPRESS_MAXOFF 0x3fff /* pointers hold 14 bits */

/* Header flags as they sit in the 16-bit flags word. */
#define DNS_FLAG_QR	  0x8000
#define DNS_FLAG_AA	  0x0400
#define DNS_FLAG_TC	  0x0200
#define DNS_FLAG_RD	  0x0100
#define DNS_FLAG_RA	  0x0080
#define DNS_FLAG_Z	  0x0040
#define DNS_FLAG_AD	  0x0020
#define DNS_FLAG_CD	  0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags)  ((flags)&0xf)

enum dns_opcode { OPCODE_QUERY = 0, OPCODE_NOTIFY = 4, OPCODE_UPDATE = 5 };

enum dns_rcode {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
	RCODE_NOTAUTH = 9,
	RCODE_BADVERS = 16, /* extended: needs OPT (RFC 6891 §6.1.3) */
};

#define EDNS_FLAG_DO 0x8000

enum msg_section { SEC_ANSWER = 0, SEC_AUTHORITY = 1, SEC_ADDITIONAL = 2 };

/* The 12-octet header. */
struct msg_header {
	uint16_t id;
	uint16_t flags; /* QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode */
	uint16_t qdcount, ancount, nscount, arcount;
};

/* What a query (or the first part of any message) contains, as parsed by
 * msg_parse_query(). Points into the packet only through offsets. */
struct msg_query {
	struct msg_header hdr;
	uint8_t qname[DNAME_MAXLEN]; /* as received: case preserved */
	size_t qname_len;
	uint16_t qtype, qclass;
	size_t question_end;	/* offset just past the question */
	bool has_edns;		/* an OPT RR was in the additional section */
	uint16_t edns_udp_size; /* requester's payload size as sent */
	uint8_t edns_ext_rcode;
	uint8_t edns_version;
	uint16_t edns_flags;  /* DO and the rest, as sent */
	size_t edns_opts_off; /* offset and length of the OPT RDATA (options, opaque) */
	uint16_t edns_opts_len;
	bool has_tsig;	 /* last additional RR is TSIG */
	size_t tsig_off; /* offset of the TSIG RR's owner name */
	size_t msg_end;	 /* offset just past the last counted RR; octets after it are ignored */
};

/* Reads the header; ERR_TRUNCATED if len < 12. */
int msg_parse_header(const uint8_t *pkt, size_t len, struct msg_header *h);

/*
 * Parses a whole query-shaped message: header, the question (when
 * QDCOUNT == 1), skips answer and authority RRs (checking each fits), and
 * walks the additional section for OPT (and TSIG, which must be last).
 * Returns 0, or the first problem found: ERR_TRUNCATED (shorter than the
 * counts say), ERR_MALFORMED, ERR_BAD_POINTER, ERR_LABEL_TOO_LONG,
 * ERR_NAME_TOO_LONG, ERR_DUP_OPT, ERR_COUNT. With QDCOUNT != 1 it returns 0
 * and leaves qname_len 0: the caller decides (FORMERR for QUERY/NOTIFY).
 * The header is filled whenever len >= 12, even on error.
 * Decisions (see msg.c): a compressed QNAME is ERR_BAD_POINTER; counts that
 * cannot fit the message (5 octets per question, 11 per RR) are ERR_COUNT
 * before anything else is read; OPT outside the additional section, OPT
 * not owned by the root, malformed EDNS options, and TSIG anywhere but
 * last in the additional section are ERR_MALFORMED; octets after the last
 * counted RR are ignored (msg_end says where the RRs stopped).
 */
int msg_parse_query(const uint8_t *pkt, size_t len, struct msg_query *q);

/*
 * Iterates the EDNS options of a query msg_parse_query() accepted (pkt is
 * the same message). *pos starts at 0 and is advanced; each call sets
 * *code, *optlen and *data (pointing into pkt) and returns 1, or returns 0
 * when there are no more options (or no OPT at all). The options were
 * validated by msg_parse_query(); a malformed rest still just ends the walk.
 */
int msg_edns_option_next(const uint8_t *pkt, const struct msg_query *q, size_t *pos, uint16_t *code,
			 uint16_t *optlen, const uint8_t **data);

/* One resource record read by msg_rr_next(). rdata is decompressed into
 * the caller's buffer. */
struct msg_rr {
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen; /* uncompressed length in rdata */
	uint8_t *rdata; /* caller-provided buffer of rdata_cap bytes */
	size_t rdata_cap;
	size_t offset; /* where the RR starts in the message */
};

/* Reads the next RR at w->pos (compressed names resolved against the whole
 * message). Returns 0 or a negative error (also in w->err). */
int msg_rr_next(struct wire *w, struct msg_rr *rr);

/* Skips the question at w->pos (name, type, class). */
int msg_skip_question(struct wire *w);

/*
 * Builder. Writes into buf (cap bytes) but never beyond limit, the largest
 * message the peer accepts (512, its EDNS size, or 65535 on TCP). Names
 * written as owners or compressible RDATA names are remembered (offsets
 * below 0x4000 only) and later names are compressed against them.
 *
 * Truncation: take msg_build_mark() before an RRset, add its RRs, and if any
 * returns ERR_SPACE call msg_build_rollback() to drop the partial RRset;
 * then set TC (msg_build_set_flags) when the RRset was answer or authority
 * data (RFC 2181 §9). Space for a trailing OPT is reserved up front by
 * msg_build_reserve().
 */
#define MSG_COMPRESS_SLOTS 64

struct msg_build {
	struct wbuf w;			       /* buf/cap; w.pos is the message length */
	size_t limit;			       /* max message size for this peer */
	size_t reserved;		       /* bytes kept free for OPT/TSIG */
	uint16_t counts[4];		       /* QD, AN, NS, AR */
	int ncompress;			       /* entries used in compress[] */
	uint16_t compress[MSG_COMPRESS_SLOTS]; /* offsets of names written */
};

struct msg_mark {
	size_t pos;
	uint16_t counts[4];
	int ncompress;
};

/* Initialises a builder; limit is clamped to cap. */
void msg_build_init(struct msg_build *b, uint8_t *buf, size_t cap, size_t limit);

/* Writes the header (counts are filled in by msg_build_finish). */
void msg_build_header(struct msg_build *b, uint16_t id, uint16_t flags);

/* Overwrites the flags word (e.g. to set TC or the rcode later). */
void msg_build_set_flags(struct msg_build *b, uint16_t flags);
uint16_t msg_build_flags(const struct msg_build *b);

/* The question; qname is written as given (case preserved, uncompressed). */
int msg_build_question(struct msg_build *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass);

/* Keeps n bytes free below limit for records added last (OPT, TSIG). */
int msg_build_reserve(struct msg_build *b, size_t n);
void msg_build_unreserve(struct msg_build *b, size_t n);

/* Writes a (possibly compressed) name; returns 0 or ERR_SPACE. */
int msg_build_name(struct msg_build *b, const uint8_t *name, bool compress);

/* Appends one RR to a section; owner compressed, RDATA names compressed
 * where RFC 3597 §4 allows. Returns 0 or ERR_SPACE (nothing half-written
 * remains only after msg_build_rollback). */
int msg_build_rr(struct msg_build *b, enum msg_section sec, const uint8_t *owner, uint16_t type,
		 uint16_t rclass, uint32_t ttl, const uint8_t *rd, uint16_t rdlen);

/* Appends an OPT RR (RFC 6891 §6.1.2) using reserved space if any. */
int msg_build_opt(struct msg_build *b, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
		  uint16_t flags, const uint8_t *opts, uint16_t optlen);

struct msg_mark msg_build_mark(const struct msg_build *b);
void msg_build_rollback(struct msg_build *b, struct msg_mark m);

/* Writes the section counts into the header; returns the message length. */
size_t msg_build_finish(struct msg_build *b);

#endif
