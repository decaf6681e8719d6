/*
 * fw_cidr.h - IPv4/IPv6 addresses, CIDR prefixes and CIDR sets with real interval arithmetic.
 *
 * An address or prefix keeps its bits right-aligned in an unsigned 128-bit integer: IPv4 uses
 * the low 32 bits, IPv6 all 128. A prefix is always normalised (host bits zero); the parser
 * says whether the text had host bits set so that lint can warn about it.
 *
 * A fw_cidrset is a set of addresses of both families kept as sorted, merged intervals, so
 * "10.0.0.0/25 + 10.0.0.128/25" equals "10.0.0.0/24" and coverage is a question about
 * addresses, never about strings:
 *
 *   fw_cidrset *allow = fw_cidrset_new();
 *   fw_cidrset_add_str(allow, "127.40.1.0/24", &err);
 *   fw_prefix p;
 *   fw_prefix_parse("127.40.1.128/25", &p, NULL, &err);
 *   fw_cidrset_covers(allow, &p);            -> true
 *   fw_cidrset_destroy(&allow);
 *
 * Adding is cheap (append); the set sorts and merges itself on the first query. A set is safe
 * for concurrent readers once it has been sealed (fw_cidrset_seal) or queried once.
 */
#ifndef CMK_FW_CIDR_H
#define CMK_FW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sockaddr;

typedef unsigned __int128 fw_u128;

/* Address families; the values are the IP version numbers. */
typedef enum { FW_V4 = 4, FW_V6 = 6 } fw_family;

#define FW_ADDR_STRLEN 48   /* enough for any formatted address and the NUL */
#define FW_PREFIX_STRLEN 56 /* enough for any formatted prefix and the NUL */

/* An IPv4 or IPv6 address. */
typedef struct {
    fw_u128 bits;   /* the address, right-aligned (IPv4 in the low 32 bits) */
    uint8_t family; /* FW_V4 or FW_V6 */
} fw_addr;

/* A CIDR prefix, normalised: host bits are zero. */
typedef struct {
    fw_u128 bits;   /* the network address, right-aligned */
    uint8_t family; /* FW_V4 or FW_V6 */
    uint8_t len;    /* prefix length: 0..32 for IPv4, 0..128 for IPv6 */
} fw_prefix;

/* fw_family_width - 32 for IPv4, 128 for IPv6 */
unsigned fw_family_width(int family);

/* fw_addr_parse - parse "127.40.1.5" or "2603:1061::1"; an IPv4-mapped IPv6 address becomes
 * IPv4 */
int fw_addr_parse(const char *s, fw_addr *out, cmk_err *err);

/* fw_addr_from_sockaddr - the address of an AF_INET/AF_INET6 sockaddr (v4-mapped -> IPv4) */
int fw_addr_from_sockaddr(const struct sockaddr *sa, fw_addr *out, cmk_err *err);

/* fw_addr_format - write the address as text into buf (FW_ADDR_STRLEN bytes); returns buf */
char *fw_addr_format(const fw_addr *a, char *buf, size_t n);

/* fw_prefix_parse - parse "10.0.0.0/8", "2603:1000::/40" or a bare address (/32, /128).
 * Host bits are cleared; *host_bits (may be NULL) says whether the text had any set. */
int fw_prefix_parse(const char *s, fw_prefix *out, bool *host_bits, cmk_err *err);

/* fw_prefix_format - write "a.b.c.d/len" or "x::/len" into buf; returns buf */
char *fw_prefix_format(const fw_prefix *p, char *buf, size_t n);

/* fw_prefix_contains - whether address a lies inside prefix p (same family only) */
bool fw_prefix_contains(const fw_prefix *p, const fw_addr *a);

/* fw_prefix_contains_prefix - whether inner lies entirely inside outer */
bool fw_prefix_contains_prefix(const fw_prefix *outer, const fw_prefix *inner);

/* fw_prefix_last - the last address of p (the first is p->bits) */
fw_u128 fw_prefix_last(const fw_prefix *p);

/* fw_prefix_cmp - order by family, then network address, then length (for qsort) */
int fw_prefix_cmp(const fw_prefix *a, const fw_prefix *b);

/* fw_prefix_addresses - number of addresses in p, saturated at UINT64_MAX */
uint64_t fw_prefix_addresses(const fw_prefix *p);

typedef struct fw_cidrset fw_cidrset;

/* fw_cidrset_new - an empty set; NULL when out of memory */
fw_cidrset *fw_cidrset_new(void);

/* fw_cidrset_destroy - free a set (NULL is fine) and null the caller's pointer */
void fw_cidrset_destroy(fw_cidrset **self_p);

/* fw_cidrset_clone - a copy of set; NULL when out of memory */
fw_cidrset *fw_cidrset_clone(const fw_cidrset *set);

/* fw_cidrset_add - add every address of prefix p; CMK_ENOMEM on failure */
int fw_cidrset_add(fw_cidrset *set, const fw_prefix *p);

/* fw_cidrset_add_range - add the addresses lo..hi (inclusive) of one family */
int fw_cidrset_add_range(fw_cidrset *set, int family, fw_u128 lo, fw_u128 hi);

/* fw_cidrset_add_str - parse a prefix (see fw_prefix_parse) and add it */
int fw_cidrset_add_str(fw_cidrset *set, const char *cidr, cmk_err *err);

/* fw_cidrset_add_all - add the whole address space of one family (0 for both) */
int fw_cidrset_add_all(fw_cidrset *set, int family);

/* fw_cidrset_union - add every address of src to dst */
int fw_cidrset_union(fw_cidrset *dst, const fw_cidrset *src);

/* fw_cidrset_difference - a new set of the addresses in a and not in b; NULL if out of memory */
fw_cidrset *fw_cidrset_difference(const fw_cidrset *a, const fw_cidrset *b);

/* fw_cidrset_intersection - a new set of the addresses in both a and b; NULL if out of memory */
fw_cidrset *fw_cidrset_intersection(const fw_cidrset *a, const fw_cidrset *b);

/* fw_cidrset_seal - sort and merge now, so that concurrent readers never write */
void fw_cidrset_seal(fw_cidrset *set);

/* fw_cidrset_contains - whether address a is in the set */
bool fw_cidrset_contains(const fw_cidrset *set, const fw_addr *a);

/* fw_cidrset_covers - whether every address of prefix p is in the set */
bool fw_cidrset_covers(const fw_cidrset *set, const fw_prefix *p);

/* fw_cidrset_intersects - whether at least one address of prefix p is in the set */
bool fw_cidrset_intersects(const fw_cidrset *set, const fw_prefix *p);

/* fw_cidrset_is_empty - whether the set holds no address (of family, 0 for any) */
bool fw_cidrset_is_empty(const fw_cidrset *set, int family);

/* fw_cidrset_equal - whether both sets hold exactly the same addresses */
bool fw_cidrset_equal(const fw_cidrset *a, const fw_cidrset *b);

/* fw_cidrset_v4_addresses - how many IPv4 addresses the set holds */
uint64_t fw_cidrset_v4_addresses(const fw_cidrset *set);

/* fw_cidrset_prefixes - the set as the fewest CIDR prefixes, IPv4 first, ascending; family 0
 * for both. *out is malloc'd (free() it; NULL when *n is 0). */
int fw_cidrset_prefixes(const fw_cidrset *set, int family, fw_prefix **out, size_t *n);

#endif
