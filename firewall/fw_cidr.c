/*
 * fw_cidr.c - IPv4/IPv6 addresses, CIDR prefixes and interval-merged CIDR sets.
 *
 * A set is an array of closed intervals [lo, hi] tagged with a family. Adds append; the first
 * query sorts and merges (overlapping or adjacent intervals of one family become one). All
 * arithmetic is on 128-bit integers; care is taken at the top of the address space, where
 * hi + 1 would overflow.
 */
#include "fw_cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One closed interval of addresses. */
typedef struct {
    fw_u128 lo;     /* first address */
    fw_u128 hi;     /* last address (inclusive) */
    uint8_t family; /* FW_V4 or FW_V6 */
} fw_iv;

struct fw_cidrset {
    fw_iv *v;    /* intervals; sorted and merged unless dirty */
    size_t n;    /* intervals in use */
    size_t cap;  /* intervals allocated */
    bool dirty;  /* appended out of order: sort and merge before the next query */
};

/* fw_family_width - address width in bits */
unsigned fw_family_width(int family)
{
    return family == FW_V6 ? 128u : 32u;
}

/* family_max - the highest address of a family */
static fw_u128 family_max(int family)
{
    return family == FW_V6 ? ~(fw_u128)0 : (fw_u128)0xffffffffu;
}

/* host_mask - the host-bit mask of a prefix length */
static fw_u128 host_mask(int family, unsigned len)
{
    unsigned w = fw_family_width(family);
    if (len >= w)
        return 0;
    if (w - len == 128)
        return ~(fw_u128)0;
    return (((fw_u128)1) << (w - len)) - 1;
}

/* bytes_to_u128 - big-endian bytes to an integer */
static fw_u128 bytes_to_u128(const unsigned char *b, size_t n)
{
    fw_u128 v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | b[i];
    return v;
}

/* u128_to_bytes - an integer to big-endian bytes */
static void u128_to_bytes(fw_u128 v, unsigned char *b, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* from_v6_bytes - an IPv6 address; v4-mapped (::ffff:a.b.c.d) becomes IPv4 when map_v4 */
static void from_v6_bytes(const unsigned char *b, bool map_v4, fw_addr *out)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (map_v4 && memcmp(b, mapped, sizeof mapped) == 0) {
        out->family = FW_V4;
        out->bits = bytes_to_u128(b + 12, 4);
    } else {
        out->family = FW_V6;
        out->bits = bytes_to_u128(b, 16);
    }
}

/* parse_addr_text - inet_pton for either family; map_v4 folds v4-mapped addresses */
static int parse_addr_text(const char *s, bool map_v4, fw_addr *out)
{
    unsigned char b[16];
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, b) != 1)
            return -1;
        from_v6_bytes(b, map_v4, out);
        return 0;
    }
    if (inet_pton(AF_INET, s, b) != 1)
        return -1;
    out->family = FW_V4;
    out->bits = bytes_to_u128(b, 4);
    return 0;
}

/* fw_addr_parse - parse an IPv4 or IPv6 address */
int fw_addr_parse(const char *s, fw_addr *out, cmk_err *err)
{
    if (!s || !*s || strlen(s) >= FW_ADDR_STRLEN || parse_addr_text(s, true, out) < 0)
        return cmk_err_set(err, CMK_EINVAL,
                           "\"%s\" is not an IP address (expected e.g. 127.40.1.5 or 2603:1061::1)",
                           s ? s : "");
    return 0;
}

/* fw_addr_from_sockaddr - the address of a socket address */
int fw_addr_from_sockaddr(const struct sockaddr *sa, fw_addr *out, cmk_err *err)
{
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->family = FW_V4;
        out->bits = ntohl(in->sin_addr.s_addr);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        from_v6_bytes(in6->sin6_addr.s6_addr, true, out);
        return 0;
    }
    return cmk_err_set(err, CMK_EINVAL, "socket address is neither IPv4 nor IPv6 (family %d)",
                       sa ? sa->sa_family : -1);
}

/* fw_addr_format - address to text */
char *fw_addr_format(const fw_addr *a, char *buf, size_t n)
{
    unsigned char b[16];
    char tmp[INET6_ADDRSTRLEN];
    if (a->family == FW_V6) {
        u128_to_bytes(a->bits, b, 16);
        inet_ntop(AF_INET6, b, tmp, sizeof tmp);
    } else {
        u128_to_bytes(a->bits, b, 4);
        inet_ntop(AF_INET, b, tmp, sizeof tmp);
    }
    snprintf(buf, n, "%s", tmp);
    return buf;
}

/* fw_prefix_parse - parse a CIDR prefix or a bare address */
int fw_prefix_parse(const char *s, fw_prefix *out, bool *host_bits, cmk_err *err)
{
    char text[FW_PREFIX_STRLEN];
    const char *slash;
    fw_addr a;
    unsigned long len;
    size_t alen;

    if (!s || !*s)
        return cmk_err_set(err, CMK_EINVAL, "empty CIDR (expected e.g. 10.0.0.0/8 or 2603:1000::/40)");
    slash = strchr(s, '/');
    alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof text)
        goto bad;
    memcpy(text, s, alen);
    text[alen] = '\0';
    /* a prefix keeps ::ffff:0:0/96 style text as IPv6: do not fold v4-mapped addresses */
    if (parse_addr_text(text, false, &a) < 0)
        goto bad;
    if (slash) {
        const char *d = slash + 1;
        char *end;
        if (!isdigit((unsigned char)*d) || (d[0] == '0' && d[1] != '\0'))
            goto badlen;
        errno = 0;
        len = strtoul(d, &end, 10);
        if (errno || *end != '\0' || len > fw_family_width(a.family))
            goto badlen;
    } else {
        len = fw_family_width(a.family);
    }
    out->family = a.family;
    out->len = (uint8_t)len;
    out->bits = a.bits & ~host_mask(a.family, (unsigned)len);
    if (host_bits)
        *host_bits = out->bits != a.bits;
    return 0;
badlen:
    return cmk_err_set(err, CMK_EINVAL,
                       "\"%s\" has a bad prefix length (0..%u for %s)", s,
                       fw_family_width(a.family), a.family == FW_V6 ? "IPv6" : "IPv4");
bad:
    return cmk_err_set(err, CMK_EINVAL,
                       "\"%s\" is not a valid CIDR (expected e.g. 10.0.0.0/8 or 2603:1000::/40)", s);
}

/* fw_prefix_format - prefix to text */
char *fw_prefix_format(const fw_prefix *p, char *buf, size_t n)
{
    char a[FW_ADDR_STRLEN];
    fw_addr addr = { p->bits, p->family };
    snprintf(buf, n, "%s/%u", fw_addr_format(&addr, a, sizeof a), p->len);
    return buf;
}

/* fw_prefix_last - last address of p */
fw_u128 fw_prefix_last(const fw_prefix *p)
{
    return p->bits | host_mask(p->family, p->len);
}

/* fw_prefix_contains - address inside prefix */
bool fw_prefix_contains(const fw_prefix *p, const fw_addr *a)
{
    return p->family == a->family && a->bits >= p->bits && a->bits <= fw_prefix_last(p);
}

/* fw_prefix_contains_prefix - inner inside outer */
bool fw_prefix_contains_prefix(const fw_prefix *outer, const fw_prefix *inner)
{
    return outer->family == inner->family && outer->len <= inner->len &&
           inner->bits >= outer->bits && fw_prefix_last(inner) <= fw_prefix_last(outer);
}

/* fw_prefix_cmp - total order for sorting */
int fw_prefix_cmp(const fw_prefix *a, const fw_prefix *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->bits != b->bits)
        return a->bits < b->bits ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* fw_prefix_addresses - size of p, saturated */
uint64_t fw_prefix_addresses(const fw_prefix *p)
{
    unsigned host = fw_family_width(p->family) - p->len;
    return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

/* ------------------------------------------------------------------------------------------ */

/* fw_cidrset_new - empty set */
fw_cidrset *fw_cidrset_new(void)
{
    return calloc(1, sizeof(fw_cidrset));
}

/* fw_cidrset_destroy - free a set */
void fw_cidrset_destroy(fw_cidrset **self_p)
{
    if (self_p && *self_p) {
        free((*self_p)->v);
        free(*self_p);
        *self_p = NULL;
    }
}

/* reserve - room for n more intervals */
static int reserve(fw_cidrset *s, size_t more)
{
    if (s->n + more <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 8;
    while (cap < s->n + more)
        cap *= 2;
    fw_iv *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return CMK_ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

/* iv_cmp - order intervals by family then start */
static int iv_cmp(const void *pa, const void *pb)
{
    const fw_iv *a = pa, *b = pb;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->hi > b->hi) - (a->hi < b->hi);
}

/* touches - whether b (starting at or after a) overlaps or is adjacent to a */
static bool touches(const fw_iv *a, const fw_iv *b)
{
    return a->family == b->family && (a->hi == family_max(a->family) || b->lo <= a->hi + 1);
}

/* settle - sort and merge a dirty set (logically const: a cache of the canonical form) */
static const fw_cidrset *settle(const fw_cidrset *cs)
{
    fw_cidrset *s = (fw_cidrset *)cs;
    size_t out = 0;
    if (!s->dirty)
        return s;
    qsort(s->v, s->n, sizeof *s->v, iv_cmp);
    for (size_t i = 0; i < s->n; i++) {
        if (out > 0 && touches(&s->v[out - 1], &s->v[i])) {
            if (s->v[i].hi > s->v[out - 1].hi)
                s->v[out - 1].hi = s->v[i].hi;
        } else {
            s->v[out++] = s->v[i];
        }
    }
    s->n = out;
    s->dirty = false;
    return s;
}

/* push - append an interval, merging with the last one when it continues it */
static int push(fw_cidrset *s, int family, fw_u128 lo, fw_u128 hi)
{
    fw_iv iv = { lo, hi, (uint8_t)family };
    if (s->n > 0 && !s->dirty) {
        fw_iv *last = &s->v[s->n - 1];
        if (iv_cmp(last, &iv) <= 0 && touches(last, &iv)) {
            if (hi > last->hi)
                last->hi = hi;
            return 0;
        }
        if (iv_cmp(last, &iv) > 0 || (last->family == family && lo <= last->hi))
            s->dirty = true;
    }
    if (reserve(s, 1) < 0)
        return CMK_ENOMEM;
    s->v[s->n++] = iv;
    return 0;
}

/* fw_cidrset_clone - copy */
fw_cidrset *fw_cidrset_clone(const fw_cidrset *set)
{
    fw_cidrset *c = fw_cidrset_new();
    settle(set);
    if (!c || reserve(c, set->n) < 0) {
        fw_cidrset_destroy(&c);
        return NULL;
    }
    if (set->n)
        memcpy(c->v, set->v, set->n * sizeof *c->v);
    c->n = set->n;
    return c;
}

/* fw_cidrset_add - add a prefix */
int fw_cidrset_add(fw_cidrset *set, const fw_prefix *p)
{
    return push(set, p->family, p->bits, fw_prefix_last(p));
}

/* fw_cidrset_add_range - add lo..hi */
int fw_cidrset_add_range(fw_cidrset *set, int family, fw_u128 lo, fw_u128 hi)
{
    if ((family != FW_V4 && family != FW_V6) || lo > hi || hi > family_max(family))
        return CMK_EINVAL;
    return push(set, family, lo, hi);
}

/* fw_cidrset_add_str - parse and add */
int fw_cidrset_add_str(fw_cidrset *set, const char *cidr, cmk_err *err)
{
    fw_prefix p;
    int rc = fw_prefix_parse(cidr, &p, NULL, err);
    if (rc < 0)
        return rc;
    if (fw_cidrset_add(set, &p) < 0)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory adding %s", cidr);
    return 0;
}

/* fw_cidrset_add_all - whole address space */
int fw_cidrset_add_all(fw_cidrset *set, int family)
{
    int rc = 0;
    if (family == 0 || family == FW_V4)
        rc = push(set, FW_V4, 0, family_max(FW_V4));
    if (rc == 0 && (family == 0 || family == FW_V6))
        rc = push(set, FW_V6, 0, family_max(FW_V6));
    return rc;
}

/* fw_cidrset_union - dst += src */
int fw_cidrset_union(fw_cidrset *dst, const fw_cidrset *src)
{
    settle(src);
    if (dst == src)
        return 0;
    if (reserve(dst, src->n) < 0)
        return CMK_ENOMEM;
    for (size_t i = 0; i < src->n; i++)
        push(dst, src->v[i].family, src->v[i].lo, src->v[i].hi);
    return 0;
}

/* fw_cidrset_difference - a \ b, by a sweep over both sorted interval lists */
fw_cidrset *fw_cidrset_difference(const fw_cidrset *a, const fw_cidrset *b)
{
    fw_cidrset *d = fw_cidrset_new();
    size_t j = 0;
    settle(a);
    settle(b);
    if (!d)
        return NULL;
    for (size_t i = 0; i < a->n; i++) {
        fw_iv cur = a->v[i];
        bool alive = true;
        /* skip b intervals wholly before cur */
        while (j < b->n && (b->v[j].family < cur.family ||
                            (b->v[j].family == cur.family && b->v[j].hi < cur.lo)))
            j++;
        for (size_t k = j; alive && k < b->n && b->v[k].family == cur.family &&
                           b->v[k].lo <= cur.hi;
             k++) {
            const fw_iv *cut = &b->v[k];
            if (cut->lo > cur.lo && push(d, cur.family, cur.lo, cut->lo - 1) < 0)
                goto oom;
            if (cut->hi >= cur.hi)
                alive = false;
            else
                cur.lo = cut->hi + 1;
        }
        if (alive && push(d, cur.family, cur.lo, cur.hi) < 0)
            goto oom;
    }
    return d;
oom:
    fw_cidrset_destroy(&d);
    return NULL;
}

/* fw_cidrset_intersection - a & b */
fw_cidrset *fw_cidrset_intersection(const fw_cidrset *a, const fw_cidrset *b)
{
    fw_cidrset *d = fw_cidrset_new();
    size_t i = 0, j = 0;
    settle(a);
    settle(b);
    if (!d)
        return NULL;
    while (i < a->n && j < b->n) {
        const fw_iv *x = &a->v[i], *y = &b->v[j];
        if (x->family != y->family) {
            if (x->family < y->family)
                i++;
            else
                j++;
            continue;
        }
        fw_u128 lo = x->lo > y->lo ? x->lo : y->lo;
        fw_u128 hi = x->hi < y->hi ? x->hi : y->hi;
        if (lo <= hi && push(d, x->family, lo, hi) < 0) {
            fw_cidrset_destroy(&d);
            return NULL;
        }
        if (x->hi < y->hi)
            i++;
        else
            j++;
    }
    return d;
}

/* fw_cidrset_seal - canonicalise now */
void fw_cidrset_seal(fw_cidrset *set)
{
    settle(set);
}

/* find_iv - index of the interval holding (family, x), or -1; binary search */
static long find_iv(const fw_cidrset *s, int family, fw_u128 x)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fw_iv *v = &s->v[mid];
        if (v->family < family || (v->family == family && v->hi < x))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->v[lo].family == family && s->v[lo].lo <= x && x <= s->v[lo].hi)
        return (long)lo;
    return -1;
}

/* fw_cidrset_contains - membership */
bool fw_cidrset_contains(const fw_cidrset *set, const fw_addr *a)
{
    settle(set);
    return find_iv(set, a->family, a->bits) >= 0;
}

/* fw_cidrset_covers - whole prefix inside one merged interval */
bool fw_cidrset_covers(const fw_cidrset *set, const fw_prefix *p)
{
    long i;
    settle(set);
    i = find_iv(set, p->family, p->bits);
    return i >= 0 && set->v[i].hi >= fw_prefix_last(p);
}

/* fw_cidrset_intersects - any address of p in the set */
bool fw_cidrset_intersects(const fw_cidrset *set, const fw_prefix *p)
{
    fw_u128 last = fw_prefix_last(p);
    size_t lo = 0, hi;
    settle(set);
    hi = set->n;
    /* first interval of p's family that ends at or after p's start */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fw_iv *v = &set->v[mid];
        if (v->family < p->family || (v->family == p->family && v->hi < p->bits))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->n && set->v[lo].family == p->family && set->v[lo].lo <= last;
}

/* fw_cidrset_is_empty - no address (of family) */
bool fw_cidrset_is_empty(const fw_cidrset *set, int family)
{
    if (family == 0)
        return set->n == 0;
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].family == family)
            return false;
    return true;
}

/* fw_cidrset_equal - same addresses */
bool fw_cidrset_equal(const fw_cidrset *a, const fw_cidrset *b)
{
    settle(a);
    settle(b);
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].family != b->v[i].family || a->v[i].lo != b->v[i].lo ||
            a->v[i].hi != b->v[i].hi)
            return false;
    return true;
}

/* fw_cidrset_v4_addresses - IPv4 address count */
uint64_t fw_cidrset_v4_addresses(const fw_cidrset *set)
{
    uint64_t total = 0;
    settle(set);
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].family == FW_V4)
            total += (uint64_t)(set->v[i].hi - set->v[i].lo) + 1;
    return total;
}

/* split_interval - emit the fewest prefixes covering lo..hi; counts only when out is NULL */
static size_t split_interval(int family, fw_u128 lo, fw_u128 hi, fw_prefix *out)
{
    unsigned w = fw_family_width(family);
    size_t n = 0;
    for (;;) {
        unsigned k = w; /* host bits of the block */
        /* largest block aligned at lo that does not pass hi */
        for (;; k--) {
            fw_u128 m = host_mask(family, w - k);
            if ((lo & m) == 0 && hi - lo >= m)
                break;
        }
        if (out) {
            out[n].family = (uint8_t)family;
            out[n].len = (uint8_t)(w - k);
            out[n].bits = lo;
        }
        n++;
        fw_u128 end = lo | host_mask(family, w - k);
        if (end >= hi)
            break;
        lo = end + 1;
    }
    return n;
}

/* fw_cidrset_prefixes - minimal prefix list */
int fw_cidrset_prefixes(const fw_cidrset *set, int family, fw_prefix **out, size_t *n)
{
    size_t total = 0, at = 0;
    settle(set);
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < set->n; i++)
        if (family == 0 || set->v[i].family == family)
            total += split_interval(set->v[i].family, set->v[i].lo, set->v[i].hi, NULL);
    if (total == 0)
        return 0;
    *out = malloc(total * sizeof **out);
    if (!*out)
        return CMK_ENOMEM;
    for (size_t i = 0; i < set->n; i++)
        if (family == 0 || set->v[i].family == family)
            at += split_interval(set->v[i].family, set->v[i].lo, set->v[i].hi, *out + at);
    *n = at;
    return 0;
}
