/*
 * write.c - `cmk-bench write` (see write.h): options, the keys of each mode, the seal and
 * unwrap costs, and the interleaved repetitions of batched and durable trials.
 */
#include "write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "args.h"
#include "common/clock.h"
#include "common/util.h"
#include "report.h"
#include "sysinfo.h"
#include "write_int.h"

/* Options of `cmk-bench write`. */
typedef struct {
    size_t sizes[BW_MAX_SIZES]; /* record sizes */
    size_t nsizes;              /* how many */
    uint64_t records;           /* records per batched trial (capped by max_mb) */
    long reps;                  /* repetitions */
    long max_mb;                /* at most this many MiB of payload per batched trial */
    int64_t durable_ms;         /* length of one durable trial */
    long writers;               /* concurrent writers in durable mode */
    size_t durable_size;        /* record size in durable mode */
    size_t chunk_bytes;         /* batched rounds switch mode after this much payload */
    int64_t seal_ms;            /* length of one seal-cost measurement */
    long openssl_seconds;       /* -seconds of each `openssl speed` */
    long rsa_bits;              /* customer-managed key size */
    int no_durable;             /* skip durable mode */
    int no_sqlcipher;           /* skip SQLCipher */
    int no_openssl;             /* skip `openssl speed` */
    const char *dir;            /* where trials write (a fresh directory under it) */
    const char *json;           /* --json FILE */
    const char *md;             /* --md FILE */
    const char *png;            /* --png FILE */
} bw_opts;

/* The whole run. */
typedef struct {
    bw_opts o;                              /* options */
    char workdir[4096];                     /* fresh directory of this run */
    bench_kek *kek[2];                      /* mmk and cmk KEKs */
    cmk_dek *dek[BW_NMODES];                /* DEK of each sealed mode (via its KEK) */
    bench_sqlc *sqlc;                       /* SQLCipher, if loaded */
    char sqlc_why[CMK_ERR_MSG_MAX];         /* why not */
    char sqlc_prm[2][3][64];                /* per configuration: kdf_iter, cipher_page_size,
                                               cipher_version as the library reports them */
    uint8_t *payload;                       /* random bytes, the largest size */
    uint64_t records[BW_MAX_SIZES];         /* records per batched trial of each size */
    bw_cell batched[BW_MAX_SIZES][BW_NMODES]; /* batched cells */
    bw_cell durable[BW_NDCFG][3];           /* durable cells: plain, mmk, cmk */
    bw_dcfg dcfg[BW_NDCFG];                 /* durable configurations */
    bench_progress prog;                    /* progress line */
    int trial;                              /* trials run, for directory names */
} bw_run;

/* bw_mode_name - short name */
const char *bw_mode_name(bw_mode m)
{
    static const char *const n[] = {"plain", "mmk", "cmk", "sqlcipher-tuned",
                                    "sqlcipher-default"};
    return m < BW_NMODES ? n[m] : "?";
}

/* bw_mode_label - long name */
const char *bw_mode_label(bw_mode m)
{
    static const char *const n[] = {"plaintext (seal off)", "Microsoft-managed key (sealed)",
                                    "customer-managed key (sealed)",
                                    "SQLCipher tuned (raw key, 4 KiB pages)",
                                    "SQLCipher default (PBKDF2 key, default pages)"};
    return m < BW_NMODES ? n[m] : "?";
}

/* usage - --help */
static void usage(void)
{
    printf(
        "Usage: cmk-bench write [options]\n\n"
        "Writes records through the worker's storage path (partition_bench_put: group commit,\n"
        "sealing, the worker's SQLite settings) in every mode, interleaved repetition by\n"
        "repetition: plaintext, Microsoft-managed key, customer-managed key, and SQLCipher when\n"
        "installed (a comparison, in its default configuration and tuned: raw key, 4 KiB\n"
        "pages). Batched mode (writes back to back) and durable mode (C writers, each waiting\n"
        "for its write to be committed) against one fsync per write. Also cmk_seal alone against\n"
        "`openssl speed -evp aes-256-gcm`, and the one-time DEK unwrap of each key.\n\n"
        "Options:\n"
        "  --sizes LIST         record sizes (default 256,1024,4096,65536; units k, KiB)\n"
        "  --records N          records per batched trial (default 20000; 20k works)\n"
        "  --max-mb M           at most M MiB of payload per trial (default 64): large records\n"
        "                       write fewer rows\n"
        "  --reps R             repetitions (default 5); within one, the modes take turns\n"
        "  --chunk SIZE         ... every SIZE of payload (default 1m), so a slow moment of\n"
        "                       the machine hits every mode alike\n"
        "  --writers C          concurrent writers in durable mode (default 64)\n"
        "  --durable-time DUR   length of one durable trial (default 500ms)\n"
        "  --durable-size SIZE  record size in durable mode (default 1024)\n"
        "  --no-durable         skip durable mode\n"
        "  --seal-time DUR      cmk_seal alone: 5 windows sharing DUR, best one reported\n"
        "                       (default 500ms)\n"
        "  --openssl-seconds S  -seconds of each `openssl speed` run (default 1)\n"
        "  --no-openssl         skip `openssl speed`\n"
        "  --no-sqlcipher       skip SQLCipher even if installed\n"
        "  --rsa-bits N         customer-managed key size: 2048, 3072, 4096 (default 2048)\n"
        "  --dir DIR            write under DIR (default $TMPDIR or /tmp); use the disk a\n"
        "                       worker's run dir is on\n"
        "  --json FILE          results as JSON\n"
        "  --md FILE            results as Markdown (also printed on stdout)\n"
        "  --png FILE           a chart through gnuplot, if installed\n\n"
        "Example (the documented benchmark, a few minutes on 2 cores):\n"
        "  cmk-bench write --sizes 256,1024,4096,65536 --records 20000 --reps 5 \\\n"
        "      --json bench-write.json --md bench-write.md\n"
        "Quick look:\n"
        "  cmk-bench write --sizes 1k --records 2000 --reps 2 --durable-time 100ms\n");
}

/* parse_opts - the options into o */
static int parse_opts(int argc, char **argv, bw_opts *o, int *help, cmk_err *err)
{
    const char *sizes = "256,1024,4096,65536", *records = "20000", *reps = "5", *maxmb = "64";
    const char *dtime = "500ms", *writers = "64", *dsize = "1024", *stime = "500ms";
    const char *oss = "1", *rsa = "2048", *chunk = "1m";
    const bench_optdef defs[] = {
        {"--sizes", &sizes, NULL},           {"--records", &records, NULL},
        {"--reps", &reps, NULL},             {"--max-mb", &maxmb, NULL},
        {"--durable-time", &dtime, NULL},    {"--writers", &writers, NULL},
        {"--durable-size", &dsize, NULL},    {"--seal-time", &stime, NULL},
        {"--openssl-seconds", &oss, NULL},   {"--rsa-bits", &rsa, NULL},
        {"--chunk", &chunk, NULL},
        {"--no-durable", NULL, &o->no_durable}, {"--no-sqlcipher", NULL, &o->no_sqlcipher},
        {"--no-openssl", NULL, &o->no_openssl}, {"--dir", &o->dir, NULL},
        {"--json", &o->json, NULL},          {"--md", &o->md, NULL},
        {"--png", &o->png, NULL},            {"--help", NULL, help},
        {NULL, NULL, NULL},
    };
    int rc;

    if ((rc = bench_args_parse(argc, argv, defs, "cmk-bench write", err)) < 0 || *help)
        return rc;
    if ((rc = bench_parse_sizes(sizes, o->sizes, BW_MAX_SIZES, &o->nsizes, err)) < 0 ||
        (rc = bench_parse_count(records, &o->records, err)) < 0 ||
        (rc = bench_parse_int(reps, "--reps", 1, 1000, &o->reps, err)) < 0 ||
        (rc = bench_parse_int(maxmb, "--max-mb", 1, 65536, &o->max_mb, err)) < 0 ||
        (rc = cmk_duration_parse(dtime, &o->durable_ms, err)) < 0 ||
        (rc = bench_parse_int(writers, "--writers", 1, 100000, &o->writers, err)) < 0 ||
        (rc = bench_parse_size(dsize, &o->durable_size, err)) < 0 ||
        (rc = bench_parse_size(chunk, &o->chunk_bytes, err)) < 0 ||
        (rc = cmk_duration_parse(stime, &o->seal_ms, err)) < 0 ||
        (rc = bench_parse_int(oss, "--openssl-seconds", 1, 60, &o->openssl_seconds, err)) < 0 ||
        (rc = bench_parse_int(rsa, "--rsa-bits", 2048, 4096, &o->rsa_bits, err)) < 0)
        return rc;
    if (o->durable_ms < 1)
        return cmk_err_set(err, CMK_EINVAL, "--durable-time must be at least 1ms");
    return 0;
}

/* sqlc_probe - what each SQLCipher configuration really runs with, asked of the library on a
 * throwaway database: its PBKDF2 iterations, cipher page size and version */
static int sqlc_probe(bw_run *r, cmk_err *err)
{
    static const char *const prm[3] = {"kdf_iter", "cipher_page_size", "cipher_version"};
    char path[4200];
    int rc = 0;

    for (int c = 0; c < 2 && rc == 0; c++) {
        bench_sqlc_db *db = NULL;
        snprintf(path, sizeof path, "%s/probe-%d.db", r->workdir, c);
        rc = bench_sqlc_open(r->sqlc, path, c ? BENCH_SQLC_TUNED : BENCH_SQLC_DEFAULT, 1, 1, &db,
                             err);
        for (int i = 0; i < 3 && rc == 0; i++)
            rc = bench_sqlc_pragma(db, prm[i], r->sqlc_prm[c][i], sizeof r->sqlc_prm[c][i], err);
        bench_sqlc_close(&db);
        unlink(path);
        snprintf(path + strlen(path), sizeof path - strlen(path), "-wal");
        unlink(path);
        path[strlen(path) - 4] = '\0';
        snprintf(path + strlen(path), sizeof path - strlen(path), "-shm");
        unlink(path);
    }
    return rc < 0 ? cmk_err_prefix(err, "asking SQLCipher for its settings: ") : 0;
}

/* setup - work dir, keys of each mode, SQLCipher, payload, durable configurations */
static int setup(bw_run *r, cmk_err *err)
{
    const char *base = r->o.dir ? r->o.dir : getenv("TMPDIR");
    size_t maxsz = r->o.durable_size;
    int w = (int)r->o.writers;

    snprintf(r->workdir, sizeof r->workdir, "%s/cmk-bench-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(r->workdir))
        return cmk_err_set(err, CMK_EIO, "cannot make a directory under %s: check --dir",
                           base && *base ? base : "/tmp");
    bench_progress_line(&r->prog, "making keys: Microsoft-managed (AES), customer-managed (RSA %ld)",
                        r->o.rsa_bits);
    if (!(r->kek[0] = bench_kek_new(BENCH_KEK_MMK, 0, err)) ||
        !(r->kek[1] = bench_kek_new(BENCH_KEK_CMK, (int)r->o.rsa_bits, err)) ||
        !(r->dek[BW_MMK] = bench_dek_via(r->kek[0], err)) ||
        !(r->dek[BW_CMK] = bench_dek_via(r->kek[1], err)))
        return err->code ? err->code : CMK_ECRYPTO;
    if (r->o.no_sqlcipher)
        snprintf(r->sqlc_why, sizeof r->sqlc_why, "SQLCipher skipped (--no-sqlcipher)");
    else if (!(r->sqlc = bench_sqlc_load(err))) {
        cmk_strlcpy(r->sqlc_why, err->msg, sizeof r->sqlc_why);
        cmk_err_clear(err);
    } else if (sqlc_probe(r, err) < 0) {
        return err->code;
    }
    for (size_t i = 0; i < r->o.nsizes; i++) {
        uint64_t cap = (uint64_t)r->o.max_mb * 1024 * 1024 / r->o.sizes[i];
        r->records[i] = r->o.records < cap ? r->o.records : (cap ? cap : 1);
        if (r->o.sizes[i] > maxsz)
            maxsz = r->o.sizes[i];
    }
    if (!(r->payload = malloc(maxsz)))
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    RAND_bytes(r->payload, (int)maxsz);
    r->dcfg[0] = (bw_dcfg){"fsync-per-write",
                           "1 writer, synchronous=FULL, group_commit_max=1: one fsync per write",
                           1, 2, 5, 1, 0};
    r->dcfg[1] = (bw_dcfg){"group-full",
                           "C writers, synchronous=FULL (fsync per commit), the worker's group "
                           "commit: when no write is waiting (worker.commit_when_idle), else 5 ms / 256",
                           w, 2, 5, 256, 1};
    r->dcfg[2] = (bw_dcfg){"group-timer",
                           "C writers, synchronous=FULL, the group-commit timer alone (5 ms / 256; "
                           "worker.commit_when_idle=false)",
                           w, 2, 5, 256, 0};
    r->dcfg[3] = (bw_dcfg){"group-normal",
                           "C writers, the worker's defaults: synchronous=NORMAL in WAL (durable "
                           "against a process crash, not a power loss), commit when idle",
                           w, 1, 5, 256, 1};
    return 0;
}

/* cell_init - room for the repetitions of a cell */
static int cell_init(bw_cell *c, long reps)
{
    c->rows_s = calloc((size_t)reps, sizeof *c->rows_s);
    c->mb_s = calloc((size_t)reps, sizeof *c->mb_s);
    return c->rows_s && c->mb_s ? 0 : CMK_ENOMEM;
}

/* cell_free - release a cell */
static void cell_free(bw_cell *c)
{
    free(c->rows_s);
    free(c->mb_s);
    bench_samples_free(&c->lat);
}

/* record - one trial's outcome into its cell (rep < 0: warm-up, not recorded) */
static void record(bw_run *r, const bw_trial *t, const bw_outcome *out, bw_cell *c, int rep,
                   const char *what)
{
    if (rep < 0)
        return;
    c->rows_s[rep] = out->seconds > 0 ? (double)out->rows / out->seconds : 0;
    c->mb_s[rep] = c->rows_s[rep] * (double)t->size / 1e6;
    c->rows = out->rows;
    c->failed += out->failed;
    c->reps = rep + 1;
    bench_progress_line(&r->prog, "rep %d/%ld %s %s: %.0f rows/s", rep + 1, r->o.reps, what,
                        bw_mode_name(t->mode), c->rows_s[rep]);
}

/* run_durable_trial - one durable trial into cell */
static int run_durable_trial(bw_run *r, bw_trial *t, bw_cell *c, int rep, const char *what,
                             cmk_err *err)
{
    char dir[4200];
    bw_outcome out = {0, 0, 0, &c->lat};
    int rc;

    snprintf(dir, sizeof dir, "%s/t%d", r->workdir, r->trial++);
    t->dir = dir;
    t->payload = r->payload;
    t->dek = r->dek[t->mode];
    rc = bw_run_durable(t, &out, err);
    bw_rmtree(dir);
    if (rc < 0)
        return cmk_err_prefix(err, "%s: ", what);
    record(r, t, &out, c, rep, what);
    return 0;
}

/* run_batched_rep - every size: one round of every mode, interleaved chunk by chunk */
static int run_batched_rep(bw_run *r, int rep, cmk_err *err)
{
    int nm = r->sqlc ? BW_NMODES : BW_SQLC_TUNED, rc = 0; /* the SQLCipher modes come last */

    for (size_t s = 0; s < r->o.nsizes && rc == 0; s++) {
        char what[64], lbl[24], dirs[BW_NMODES][4200];
        bw_trial t[BW_NMODES];
        bw_outcome out[BW_NMODES];
        bench_samples scratch[BW_NMODES];
        uint64_t chunk = r->o.chunk_bytes / r->o.sizes[s];

        snprintf(what, sizeof what, "batched %s", bench_size_label(r->o.sizes[s], lbl, sizeof lbl));
        memset(scratch, 0, sizeof scratch);
        for (int k = 0; k < nm; k++) {
            memset(&t[k], 0, sizeof t[k]);
            t[k].mode = (bw_mode)k;
            t[k].size = r->o.sizes[s];
            t[k].records = rep < 0 ? (r->records[s] + 3) / 4 : r->records[s];
            partition_opts_default(&t[k].popts);
            snprintf(dirs[k], sizeof dirs[k], "%s/t%d", r->workdir, r->trial++);
            t[k].dir = dirs[k];
            t[k].payload = r->payload;
            t[k].dek = r->dek[k];
            t[k].sqlc = r->sqlc;
            out[k].lat = rep < 0 ? &scratch[k] : &r->batched[s][k].lat;
        }
        rc = bw_run_batched_round(t, nm, chunk ? chunk : 1, rep < 0 ? 0 : rep, out, err);
        for (int k = 0; k < nm; k++) {
            bw_rmtree(dirs[k]);
            bench_samples_free(&scratch[k]);
            if (rc == 0)
                record(r, &t[k], &out[k], &r->batched[s][k], rep, what);
        }
        if (rc < 0)
            cmk_err_prefix(err, "%s: ", what);
    }
    return rc;
}

/* run_durable_rep - every durable configuration and mode, interleaved */
static int run_durable_rep(bw_run *r, int rep, cmk_err *err)
{
    int order[BW_NDCFG * 3], rc;

    bench_interleave_order(BW_NDCFG * 3, rep, order);
    for (int k = 0; k < BW_NDCFG * 3; k++) {
        const bw_dcfg *d = &r->dcfg[order[k] / 3];
        char what[80];
        bw_trial t = {.mode = (bw_mode)(order[k] % 3), .size = r->o.durable_size,
                      .time_ms = r->o.durable_ms, .writers = d->writers,
                      .idle_commit = d->idle_commit};
        partition_opts_default(&t.popts);
        t.popts.synchronous = d->synchronous;
        t.popts.group_commit_ms = d->gc_ms;
        t.popts.group_commit_max = d->gc_max;
        snprintf(what, sizeof what, "durable %s", d->name);
        if ((rc = run_durable_trial(r, &t, &r->durable[order[k] / 3][order[k] % 3], rep, what, err)) < 0)
            return rc;
    }
    return 0;
}

/* crypto_json - seal cost against openssl speed, and the unwrap of each KEK */
static int crypto_json(bw_run *r, cJSON *res, cmk_err *err)
{
    cJSON *seal = cJSON_AddArrayToObject(res, "seal"), *ossl = cJSON_AddObjectToObject(res, "openssl_speed");
    cJSON *unwrap = cJSON_AddArrayToObject(res, "unwrap");
    bench_ossl_point pts[BW_MAX_SIZES];
    size_t npts = 0;
    char cmd[256] = "", lbl[24];
    cmk_err oerr = CMK_ERR_INIT;
    int rc;

    for (int k = 0; k < 2; k++) {
        double us = 0;
        cJSON *u = cJSON_CreateObject();
        bench_progress_line(&r->prog, "timing the DEK unwrap of the %s key", k ? "customer-managed" : "Microsoft-managed");
        if ((rc = bench_unwrap_cost(r->kek[k], 300, &us, err)) < 0) {
            cJSON_Delete(u);
            return rc;
        }
        cJSON_AddStringToObject(u, "kek", k ? "cmk" : "mmk");
        cJSON_AddStringToObject(u, "alg", bench_kek_alg(r->kek[k]));
        cJSON_AddNumberToObject(u, "us_per_unwrap", us);
        cJSON_AddItemToArray(unwrap, u);
    }
    if (r->o.no_openssl) {
        cJSON_AddBoolToObject(ossl, "available", 0);
        cJSON_AddStringToObject(ossl, "message", "`openssl speed` skipped (--no-openssl)");
    } else {
        bench_progress_line(&r->prog, "running openssl speed -evp aes-256-gcm (%zu sizes)", r->o.nsizes);
        if (bench_openssl_speed_run(r->o.sizes, r->o.nsizes, (int)r->o.openssl_seconds, pts, &npts,
                                    cmd, sizeof cmd, &oerr) < 0)
            npts = 0;
        cJSON_AddBoolToObject(ossl, "available", npts > 0);
        if (npts)
            cJSON_AddStringToObject(ossl, "command", cmd);
        else
            cJSON_AddStringToObject(ossl, "message", oerr.msg);
    }
    for (size_t i = 0; i < r->o.nsizes; i++) {
        double ns = 0, med = 0;
        cJSON *s = cJSON_CreateObject();
        bench_progress_line(&r->prog, "timing cmk_seal alone at %s", bench_size_label(r->o.sizes[i], lbl, sizeof lbl));
        if ((rc = bench_seal_cost(r->o.sizes[i], (int)r->o.seal_ms, &ns, &med, err)) < 0) {
            cJSON_Delete(s);
            return rc;
        }
        cJSON_AddNumberToObject(s, "size", (double)r->o.sizes[i]);
        cJSON_AddNumberToObject(s, "ns_per_seal", ns);
        cJSON_AddNumberToObject(s, "ns_per_seal_median", med);
        cJSON_AddNumberToObject(s, "mb_s", (double)r->o.sizes[i] / ns * 1e3);
        for (size_t j = 0; j < npts; j++)
            if (pts[j].size == r->o.sizes[i] && pts[j].bytes_s > 0) {
                double ons = (double)pts[j].size / pts[j].bytes_s * 1e9;
                cJSON_AddNumberToObject(s, "openssl_ns_per_record", ons);
                cJSON_AddNumberToObject(s, "openssl_mb_s", pts[j].bytes_s / 1e6);
                cJSON_AddNumberToObject(s, "seal_vs_openssl", ns / ons);
            }
        cJSON_AddItemToArray(seal, s);
    }
    return 0;
}

/* head_json - kind, command and machine: the start of the document */
static cJSON *head_json(bw_run *r, const char *command)
{
    cJSON *res = cJSON_CreateObject();
    bench_machine m;

    cJSON_AddStringToObject(res, "kind", "write");
    cJSON_AddStringToObject(res, "command", command);
    bench_machine_get(&m, r->workdir);
    cJSON_AddItemToObject(res, "machine", bench_machine_json(&m));
    cJSON_AddItemToObject(cJSON_GetObjectItem(res, "machine"), "loadavg_start", cJSON_CreateDoubleArray(m.load, 3));
    return res;
}

/* results_add - configuration and every measured cell into res */
static void results_add(bw_run *r, cJSON *res)
{
    cJSON *cfg, *arr, *sq, *it;
    double load[3];
    char lbl[24];

    bench_loadavg(load); /* the machine was described at the start: the load now */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(res, "machine"), "loadavg_end", cJSON_CreateDoubleArray(load, 3));

    cfg = cJSON_AddObjectToObject(res, "config");
    cJSON_AddNumberToObject(cfg, "reps", (double)r->o.reps);
    cJSON_AddNumberToObject(cfg, "records", (double)r->o.records);
    cJSON_AddNumberToObject(cfg, "max_mb", (double)r->o.max_mb);
    cJSON_AddNumberToObject(cfg, "chunk_bytes", (double)r->o.chunk_bytes);
    cJSON_AddNumberToObject(cfg, "writers", (double)r->o.writers);
    cJSON_AddNumberToObject(cfg, "durable_ms", (double)r->o.durable_ms);
    cJSON_AddNumberToObject(cfg, "durable_size", (double)r->o.durable_size);
    cJSON_AddStringToObject(cfg, "partition", "WAL, synchronous=NORMAL, group commit every 5 ms or 256 writes (the worker's defaults)");
    sq = cJSON_AddObjectToObject(res, "sqlcipher");
    cJSON_AddBoolToObject(sq, "available", r->sqlc != NULL);
    cJSON_AddStringToObject(sq, r->sqlc ? "version" : "message", r->sqlc ? bench_sqlc_version(r->sqlc) : r->sqlc_why);
    cJSON_AddStringToObject(sq, "role", "a reported comparison, no target");
    if (r->sqlc) {
        cJSON *cfgs = cJSON_AddArrayToObject(sq, "configs");
        for (int c = 0; c < 2; c++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "mode", bw_mode_name(c ? BW_SQLC_TUNED : BW_SQLC_DEFAULT));
            cJSON_AddStringToObject(o, "what", bench_sqlc_cfg_what(c ? BENCH_SQLC_TUNED : BENCH_SQLC_DEFAULT));
            cJSON_AddNumberToObject(o, "kdf_iter", atof(r->sqlc_prm[c][0]));
            cJSON_AddNumberToObject(o, "cipher_page_size", atof(r->sqlc_prm[c][1]));
            cJSON_AddStringToObject(o, "cipher_version", r->sqlc_prm[c][2]);
            cJSON_AddItemToArray(cfgs, o);
        }
    }
    arr = cJSON_AddArrayToObject(res, "batched");
    for (size_t s = 0; s < r->o.nsizes; s++)
        for (int k = 0; k < BW_NMODES; k++) {
            bw_cell *c = &r->batched[s][k];
            cJSON *row;
            if (!c->reps)
                continue;
            row = bw_cell_json(c);
            cJSON_AddNumberToObject(row, "size", (double)r->o.sizes[s]);
            cJSON_AddStringToObject(row, "size_label", bench_size_label(r->o.sizes[s], lbl, sizeof lbl));
            cJSON_AddStringToObject(row, "mode", bw_mode_name((bw_mode)k));
            cJSON_AddStringToObject(row, "label", bw_mode_label((bw_mode)k));
            cJSON_AddNumberToObject(row, "records", (double)r->records[s]);
            if (k != BW_PLAIN)
                cJSON_AddItemToObject(row, "ratio_to_plain", bw_ratio_json(c, &r->batched[s][BW_PLAIN]));
            if ((k == BW_MMK || k == BW_CMK) && r->batched[s][BW_SQLC_TUNED].reps) {
                cJSON_AddItemToObject(row, "ratio_to_sqlcipher_tuned", bw_ratio_json(c, &r->batched[s][BW_SQLC_TUNED]));
                cJSON_AddItemToObject(row, "ratio_to_sqlcipher_default", bw_ratio_json(c, &r->batched[s][BW_SQLC_DEFAULT]));
            }
            cJSON_AddItemToArray(arr, row);
        }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(res, "seal")) /* what sealing alone would cost */
    {
        for (size_t i = 0; i < r->o.nsizes; i++) {
            bench_spread p;
            double ns = cmk_json_num(it, "ns_per_seal", 0);
            if ((double)r->o.sizes[i] != cmk_json_num(it, "size", -1) || !r->batched[i][BW_PLAIN].reps)
                continue;
            bench_spread_of(r->batched[i][BW_PLAIN].rows_s, (size_t)r->batched[i][BW_PLAIN].reps, &p);
            if (p.median <= 0)
                continue;
            cJSON_AddNumberToObject(it, "plain_ns_per_row", 1e9 / p.median);
            cJSON_AddNumberToObject(it, "ratio_bound", (1e9 / p.median) / (1e9 / p.median + ns));
        }
    }
    arr = cJSON_AddArrayToObject(res, "durable");
    for (int d = 0; d < BW_NDCFG && !r->o.no_durable; d++)
        for (int k = 0; k < 3; k++) {
            bw_cell *c = &r->durable[d][k];
            cJSON *row;
            if (!c->reps)
                continue;
            row = bw_cell_json(c);
            cJSON_AddStringToObject(row, "config", r->dcfg[d].name);
            cJSON_AddStringToObject(row, "what", r->dcfg[d].what);
            cJSON_AddNumberToObject(row, "writers", r->dcfg[d].writers);
            cJSON_AddStringToObject(row, "synchronous", r->dcfg[d].synchronous == 2 ? "FULL" : "NORMAL");
            cJSON_AddNumberToObject(row, "group_commit_max", r->dcfg[d].gc_max);
            cJSON_AddStringToObject(row, "mode", bw_mode_name((bw_mode)k));
            cJSON_AddNumberToObject(row, "size", (double)r->o.durable_size);
            cJSON_AddNumberToObject(row, "failed", (double)c->failed);
            if (d > 0)
                cJSON_AddItemToObject(row, "ratio_to_fsync_per_write", bw_ratio_json(c, &r->durable[0][k]));
            if (k != BW_PLAIN)
                cJSON_AddItemToObject(row, "ratio_to_plain", bw_ratio_json(c, &r->durable[d][BW_PLAIN]));
            cJSON_AddItemToArray(arr, row);
        }
}

/* run_all - keys, crypto costs, warm-up, then the interleaved repetitions */
static int run_all(bw_run *r, cJSON **res, const char *command, cmk_err *err)
{
    int rc;

    if ((rc = setup(r, err)) < 0)
        return rc;
    *res = head_json(r, command);
    if ((rc = crypto_json(r, *res, err)) < 0)
        return rc;
    for (size_t s = 0; s < r->o.nsizes; s++)
        for (int k = 0; k < BW_NMODES; k++)
            if (cell_init(&r->batched[s][k], r->o.reps) < 0)
                return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    for (int d = 0; d < BW_NDCFG; d++)
        for (int k = 0; k < 3; k++)
            if (cell_init(&r->durable[d][k], r->o.reps) < 0)
                return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    if ((rc = run_batched_rep(r, -1, err)) < 0) /* warm-up: caches, page cache, allocator */
        return rc;
    for (int rep = 0; rep < r->o.reps; rep++)
        if ((rc = run_batched_rep(r, rep, err)) < 0 ||
            (!r->o.no_durable && (rc = run_durable_rep(r, rep, err)) < 0))
            return rc;
    bench_progress_done(&r->prog);
    results_add(r, *res);
    cJSON_AddItemToObject(*res, "targets", bw_targets_json(*res, (int)r->o.writers));
    return 0;
}

/* bench_write_cmd - `cmk-bench write` */
int bench_write_cmd(int argc, char **argv, cmk_err *err)
{
    bw_run *r = calloc(1, sizeof *r);
    cJSON *res = NULL;
    char *cmdline = NULL, *command = NULL;
    int help = 0, rc;

    if (!r)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    bench_progress_init(&r->prog);
    if ((rc = parse_opts(argc, argv, &r->o, &help, err)) < 0 || help) {
        if (help)
            usage();
        free(r);
        return rc;
    }
    cmdline = bench_command_line(argc, argv);
    if (cmdline && (command = malloc(strlen(cmdline) + 32)))
        sprintf(command, "cmk-bench write%s%s", *cmdline ? " " : "", cmdline);
    rc = run_all(r, &res, command ? command : "cmk-bench write", err);
    bench_progress_done(&r->prog);
    if (rc == 0) {
        bench_report_md(res, stdout);
        if (r->o.json && (rc = bench_report_json(res, r->o.json, err)) == 0)
            fprintf(stderr, "wrote %s\n", r->o.json);
        if (rc == 0 && r->o.md && (rc = bench_report_md_file(res, r->o.md, err)) == 0)
            fprintf(stderr, "wrote %s\n", r->o.md);
        if (rc == 0 && r->o.png) {
            cmk_err perr = CMK_ERR_INIT;
            if (bench_report_png(res, r->o.png, &perr) == 0)
                fprintf(stderr, "wrote %s\n", r->o.png);
            else
                fprintf(stderr, "cmk-bench: %s\n", perr.msg);
        }
    }
    cJSON_Delete(res);
    for (size_t s = 0; s < BW_MAX_SIZES; s++)
        for (int k = 0; k < BW_NMODES; k++)
            cell_free(&r->batched[s][k]);
    for (int d = 0; d < BW_NDCFG; d++)
        for (int k = 0; k < 3; k++)
            cell_free(&r->durable[d][k]);
    for (int k = 0; k < BW_NMODES; k++)
        cmk_dek_destroy(&r->dek[k]);
    bench_kek_destroy(&r->kek[0]);
    bench_kek_destroy(&r->kek[1]);
    bench_sqlc_unload(&r->sqlc);
    if (r->workdir[0])
        bw_rmtree(r->workdir);
    free(r->payload);
    free(cmdline);
    free(command);
    free(r);
    return rc;
}
