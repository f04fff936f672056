/* main.c - strongbox-spectest: runs WebAssembly spec-testsuite scripts against the engine.
 *
 *   strongbox-spectest [options] FILE.wast|FILE.json ...
 *
 * Each .wast is converted with wabt's wast2json (into --work-dir, or a temporary directory that
 * is removed afterwards); a .json is taken as an already converted script. Prints one line per
 * file, failure details (file:line, command, expected vs got) and a final "N passed, M failed"
 * line. Exit status: 0 all passed, 1 a command failed, 2 usage or conversion problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest/spectest.h"

static void usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "usage: %s [options] FILE.wast|FILE.json ...\n"
            "  --work-dir DIR      convert .wast files into DIR (kept) instead of a temp dir\n"
            "  --strict-messages   also require the spec's error text for invalid/malformed\n"
            "  --max-reports N     failure details shown per file (default 50)\n"
            "  --engine TIER       interpreter (default) or compiled\n"
            "  -v, --verbose       report every command\n"
            "  -h, --help          this text\n"
            "environment: SB_WAST2JSON names the wast2json binary (default: from PATH)\n",
            argv0);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Runs one file; adds to the totals. Returns 0 if it ran (pass or fail), -1 if it could not. */
static int run_file(const char *path, const char *work_dir, const run_options *opt,
                    file_result *total)
{
    char *json_path, *tmp_dir, why[512];
    const char *name = base_name(path);
    int rc = convert_wast(path, work_dir, &json_path, &tmp_dir, why, sizeof why);
    file_result res = {0};
    if (rc == 0)
        rc = run_script(json_path, name, opt, &res);
    else
        printf("%s: %s\n", name, why);
    if (tmp_dir) {
        remove_tree(tmp_dir);
        free(tmp_dir);
    }
    free(json_path);
    if (rc != 0)
        return -1;
    printf("%s: %u passed, %u failed, %u skipped(text)", name, res.passed, res.failed, res.skipped);
    if (res.message_diffs)
        printf(" [%u rejected with a different message]", res.message_diffs);
    printf("\n");
    total->passed += res.passed;
    total->failed += res.failed;
    total->skipped += res.skipped;
    return 0;
}

int main(int argc, char **argv)
{
    run_options opt = {.max_reports = 50};
    const char *work_dir = NULL;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--engine") == 0 && first + 1 < argc) {
            if (wasm_engine_parse(argv[++first], &opt.engine) != 0) {
                fprintf(stderr, "--engine: expected interpreter or compiled\n");
                return 2;
            }
            if (!wasm_engine_available(opt.engine)) {
                fprintf(stderr, "--engine %s: this build has no such tier\n", argv[first]);
                return 2;
            }
        } else if (strcmp(a, "--strict-messages") == 0) {
            opt.strict_messages = true;
        } else if (strcmp(a, "--work-dir") == 0 && first + 1 < argc) {
            work_dir = argv[++first];
        } else if (strcmp(a, "--max-reports") == 0 && first + 1 < argc) {
            char *end;
            unsigned long n = strtoul(argv[++first], &end, 10);
            if (*end || n > 1000000) {
                fprintf(stderr, "--max-reports: expected a number up to 1000000\n");
                return 2;
            }
            opt.max_reports = (unsigned)n;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (first >= argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    file_result total = {0};
    int unreadable = 0;
    for (int i = first; i < argc; i++)
        if (run_file(argv[i], work_dir, &opt, &total) != 0)
            unreadable++;
    printf("%u passed, %u failed", total.passed, total.failed);
    if (total.skipped)
        printf(", %u skipped", total.skipped);
    if (unreadable)
        printf(" (%d file%s could not be run)", unreadable, unreadable == 1 ? "" : "s");
    printf("\n");
    fflush(stdout);
    if (unreadable)
        return 2;
    return total.failed ? 1 : 0;
}
