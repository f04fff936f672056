/* run.c - executing a wast2json command script against the engine. */
#include "spectest/spectest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define MAX_MODULE_BYTES (256u << 20)
#define MAX_ARGS 1000
#define MAX_RESULTS 1000

typedef struct named_instance {
    char *name;
    wasm_instance *inst;
} named_instance;

typedef struct script {
    char *dir;                 /* where the .wasm files are */
    const char *display;       /* file name for reports */
    const run_options *opt;
    file_result *res;
    wasm_store *store;
    wasm_module **modules;     /* every module loaded; freed after the store */
    size_t nmodules, cap_modules;
    named_instance *named;
    size_t nnamed, cap_named;
    wasm_instance *current;    /* the most recently instantiated module */
    extern_refs refs;
    long line;                 /* of the command being run */
    const char *command;
} script;

/* ---------------------------------------------------------------- reporting */

static void pass(script *sc)
{
    sc->res->passed++;
    if (sc->opt->verbose)
        printf("  %s:%ld: %s ok\n", sc->display, sc->line, sc->command);
}

static void fail(script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(script *sc, const char *fmt, ...)
{
    sc->res->failed++;
    if (sc->res->failed > sc->opt->max_reports && !sc->opt->verbose) {
        if (sc->res->failed == sc->opt->max_reports + 1)
            printf("  %s: (further failures not shown)\n", sc->display);
        return;
    }
    printf("  %s:%ld: %s: ", sc->display, sc->line, sc->command);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* Error kinds as reported; WASM_OK here means the driver itself could not get the module. */
static const char *verdict_name(wasm_errkind kind)
{
    return kind == WASM_OK ? "driver error" : wasm_errkind_name(kind);
}

/* ---------------------------------------------------------------- bookkeeping */

static int remember_module(script *sc, wasm_module *m)
{
    if (sc->nmodules == sc->cap_modules) {
        size_t cap = sc->cap_modules ? sc->cap_modules * 2 : 32;
        wasm_module **mods = realloc(sc->modules, cap * sizeof *mods);
        if (!mods)
            return -1;
        sc->modules = mods;
        sc->cap_modules = cap;
    }
    sc->modules[sc->nmodules++] = m;
    return 0;
}

static int name_instance(script *sc, const char *name, wasm_instance *inst)
{
    for (size_t i = 0; i < sc->nnamed; i++)
        if (strcmp(sc->named[i].name, name) == 0) {
            sc->named[i].inst = inst; /* a later module of the same name shadows the earlier */
            return 0;
        }
    if (sc->nnamed == sc->cap_named) {
        size_t cap = sc->cap_named ? sc->cap_named * 2 : 8;
        named_instance *n = realloc(sc->named, cap * sizeof *n);
        if (!n)
            return -1;
        sc->named = n;
        sc->cap_named = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    sc->named[sc->nnamed++] = (named_instance){copy, inst};
    return 0;
}

/* The instance a command addresses: by "$name", or the current one. */
static wasm_instance *instance_for(script *sc, const json_t *cmd)
{
    const char *name = json_string_value(json_object_get(cmd, "module"));
    if (!name)
        name = json_string_value(json_object_get(cmd, "name"));
    if (!name)
        return sc->current;
    for (size_t i = 0; i < sc->nnamed; i++)
        if (strcmp(sc->named[i].name, name) == 0)
            return sc->named[i].inst;
    return NULL;
}

/* ---------------------------------------------------------------- modules */

/* Loads dir/filename. Returns the module, or NULL with err filled (kind WASM_OK with a message
 * when the file itself could not be read: a driver problem, not an engine verdict). */
static wasm_module *load_module(script *sc, const json_t *cmd, wasm_error *err)
{
    memset(err, 0, sizeof *err);
    const char *file = json_string_value(json_object_get(cmd, "filename"));
    if (!file || strchr(file, '/') || strlen(file) > 1024) {
        snprintf(err->msg, sizeof err->msg, "command has no usable \"filename\"");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", sc->dir, file);
    uint8_t *bytes;
    size_t len;
    sb_err e;
    if (sb_read_file(path, MAX_MODULE_BYTES, &bytes, &len, &e) != 0) {
        snprintf(err->msg, sizeof err->msg, "%.180s", e.msg);
        return NULL;
    }
    wasm_module *m = wasm_module_load(bytes, len, err);
    free(bytes);
    if (m && remember_module(sc, m) != 0) {
        wasm_module_free(m);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        err->kind = WASM_OK;
        return NULL;
    }
    return m;
}

static void engine_config(const script *sc, wasm_config *cfg)
{
    wasm_config_default(cfg);
    cfg->engine = sc->opt->engine;
    cfg->fuel = WASM_FUEL_UNLIMITED;
    /* Deep enough for the suite's legitimately deep recursions (e.g. fac / even-odd at depth
     * ~1000s); runaway recursion still ends in "call stack exhausted". */
    cfg->max_call_depth = 20000;
    cfg->max_stack_bytes = 16u << 20;
}

static int instantiate(script *sc, const wasm_module *m, wasm_instance **inst, wasm_error *err)
{
    wasm_config cfg;
    engine_config(sc, &cfg);
    memset(err, 0, sizeof *err);
    return wasm_instantiate(sc->store, m, NULL, 0, &cfg, inst, err);
}

static void cmd_module(script *sc, const json_t *cmd)
{
    wasm_error err;
    wasm_module *m = load_module(sc, cmd, &err);
    wasm_instance *inst = NULL;
    sc->current = NULL; /* assertions after a failed module must not hit the previous one */
    if (!m) {
        fail(sc, "load failed: %s: %s", verdict_name(err.kind), err.msg);
        return;
    }
    if (instantiate(sc, m, &inst, &err) != 0) {
        fail(sc, "instantiation failed: %s: %s", wasm_errkind_name(err.kind), err.msg);
        return;
    }
    sc->current = inst;
    const char *name = json_string_value(json_object_get(cmd, "name"));
    if (name && name_instance(sc, name, inst) != 0) {
        fail(sc, "out of memory");
        return;
    }
    pass(sc);
}

static void cmd_register(script *sc, const json_t *cmd)
{
    wasm_instance *inst = instance_for(sc, cmd);
    const char *as = json_string_value(json_object_get(cmd, "as"));
    wasm_error err;
    if (!inst || !as) {
        fail(sc, "no such module instance");
        return;
    }
    if (wasm_store_register(sc->store, as, inst, &err) != 0) {
        fail(sc, "register \"%s\": %s", as, err.msg);
        return;
    }
    pass(sc);
}

/* ---------------------------------------------------------------- actions */

typedef struct outcome {
    int rc;               /* 0 ok, >0 trap kind, -1 the action could not be performed */
    wasm_trap trap;
    wasm_val *results;
    size_t nresults;
    char why[256];        /* for rc == -1 */
    char what[160];       /* "add(i32:1 i32:2)" style description */
} outcome;

static int parse_args(script *sc, const json_t *args, wasm_val **out, size_t *n, char *why,
                      size_t why_len)
{
    *n = json_array_size(args);
    *out = NULL;
    if (*n > MAX_ARGS) {
        snprintf(why, why_len, "too many arguments (%zu)", *n);
        return -1;
    }
    if (*n == 0)
        return 0;
    *out = calloc(*n, sizeof **out);
    if (!*out) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < *n; i++)
        if (value_parse(json_array_get(args, i), &sc->refs, &(*out)[i], why, why_len) != 0)
            return -1;
    return 0;
}

static void describe_call(outcome *o, const char *field, const wasm_val *args, size_t nargs,
                          const extern_refs *refs)
{
    size_t used = (size_t)snprintf(o->what, sizeof o->what, "%.60s(", field);
    for (size_t i = 0; i < nargs && used < sizeof o->what; i++) {
        char v[96];
        value_format(&args[i], refs, v, sizeof v);
        used += (size_t)snprintf(o->what + used, sizeof o->what - used, "%s%s", i ? " " : "", v);
    }
    if (used < sizeof o->what)
        snprintf(o->what + used, sizeof o->what - used, ")");
}

static void invoke(script *sc, wasm_instance *inst, const json_t *action, const char *field,
                   size_t field_len, outcome *o)
{
    wasm_extern ext;
    if (wasm_instance_export_n(inst, field, field_len, &ext) != 0 || ext.kind != WASM_EXTERN_FUNC) {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "no exported function \"%.100s\"", field);
        return;
    }
    wasm_val *args;
    size_t nargs;
    if (parse_args(sc, json_object_get(action, "args"), &args, &nargs, o->why, sizeof o->why)) {
        free(args);
        o->rc = -1;
        return;
    }
    describe_call(o, field, args, nargs, &sc->refs);
    const wasm_functype *type = wasm_func_type(ext.of.func);
    o->nresults = type->nresults;
    o->results = o->nresults ? calloc(o->nresults, sizeof *o->results) : NULL;
    if (o->nresults > MAX_RESULTS || (o->nresults && !o->results)) {
        free(args);
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "cannot hold %zu results", o->nresults);
        return;
    }
    o->rc = wasm_invoke(inst, ext.of.func, args, nargs, o->results, o->nresults, &o->trap);
    if (o->rc < 0)
        snprintf(o->why, sizeof o->why, "invoke refused: %s", o->trap.msg);
    free(args);
}

static void get_global(wasm_instance *inst, const char *field, size_t field_len, outcome *o)
{
    wasm_extern ext;
    snprintf(o->what, sizeof o->what, "get %.100s", field);
    if (wasm_instance_export_n(inst, field, field_len, &ext) != 0 ||
        ext.kind != WASM_EXTERN_GLOBAL) {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "no exported global \"%.100s\"", field);
        return;
    }
    o->results = calloc(1, sizeof *o->results);
    if (!o->results) {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "out of memory");
        return;
    }
    o->nresults = 1;
    wasm_global_get(ext.of.global, o->results);
    o->rc = 0;
}

static void perform(script *sc, const json_t *cmd, outcome *o)
{
    memset(o, 0, sizeof *o);
    const json_t *action = json_object_get(cmd, "action");
    const char *type = json_string_value(json_object_get(action, "type"));
    const json_t *field = json_object_get(action, "field");
    wasm_instance *inst = instance_for(sc, action);
    if (!type || !json_is_string(field)) {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "command has no usable action");
    } else if (!inst) {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "no module instance to act on");
    } else if (strcmp(type, "invoke") == 0) {
        invoke(sc, inst, action, json_string_value(field), json_string_length(field), o);
    } else if (strcmp(type, "get") == 0) {
        get_global(inst, json_string_value(field), json_string_length(field), o);
    } else {
        o->rc = -1;
        snprintf(o->why, sizeof o->why, "unknown action type \"%.40s\"", type);
    }
}

/* Describes what an action produced, for failure reports. */
static void describe_outcome(const script *sc, const outcome *o, char *buf, size_t len)
{
    if (o->rc > 0) {
        snprintf(buf, len, "trap \"%s\"", o->trap.msg[0] ? o->trap.msg : wasm_trap_text(o->trap.kind));
        return;
    }
    size_t used = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < o->nresults && used < len; i++) {
        char v[96];
        value_format(&o->results[i], &sc->refs, v, sizeof v);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", v);
    }
    if (used < len)
        snprintf(buf + used, len - used, "]");
}

static void cmd_action(script *sc, const json_t *cmd)
{
    outcome o;
    perform(sc, cmd, &o);
    if (o.rc < 0)
        fail(sc, "%s", o.why);
    else if (o.rc > 0)
        fail(sc, "%s: unexpected trap \"%s\"", o.what, o.trap.msg);
    else
        pass(sc);
    free(o.results);
}

static void cmd_assert_return(script *sc, const json_t *cmd)
{
    outcome o;
    perform(sc, cmd, &o);
    const json_t *expected = json_object_get(cmd, "expected");
    bool ok = o.rc == 0 && json_array_size(expected) == o.nresults;
    for (size_t i = 0; ok && i < o.nresults; i++)
        ok = value_matches(json_array_get(expected, i), &o.results[i], &sc->refs);
    if (o.rc < 0) {
        fail(sc, "%s", o.why);
    } else if (!ok) {
        char want[512] = "[", got[512];
        size_t used = 1;
        for (size_t i = 0; i < json_array_size(expected) && used < sizeof want; i++) {
            char v[160];
            value_format_expected(json_array_get(expected, i), v, sizeof v);
            used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", i ? " " : "", v);
        }
        if (used < sizeof want)
            snprintf(want + used, sizeof want - used, "]");
        describe_outcome(sc, &o, got, sizeof got);
        fail(sc, "%s: expected %s, got %s", o.what, want, got);
    } else {
        pass(sc);
    }
    free(o.results);
}

/* Trap kinds are compared through their spec text: the script's text may extend it (e.g.
 * "uninitialized element 2"), so the engine's text must be a prefix. */
static bool trap_text_matches(wasm_trapkind kind, const char *expected)
{
    const char *text = wasm_trap_text(kind);
    return expected && kind != WASM_TRAP_NONE && strncmp(expected, text, strlen(text)) == 0;
}

static void cmd_assert_trap(script *sc, const json_t *cmd)
{
    const char *text = json_string_value(json_object_get(cmd, "text"));
    outcome o;
    perform(sc, cmd, &o);
    if (o.rc < 0) {
        fail(sc, "%s", o.why);
    } else if (o.rc == 0 || !trap_text_matches(o.trap.kind, text)) {
        char got[512];
        describe_outcome(sc, &o, got, sizeof got);
        fail(sc, "%s: expected trap \"%s\", got %s", o.what, text ? text : "?", got);
    } else {
        pass(sc);
    }
    free(o.results);
}

/* ---------------------------------------------------------------- module assertions */

static bool message_matches(const char *got, const char *expected)
{
    return expected && strncmp(got, expected, strlen(expected)) == 0;
}

/* assert_invalid / assert_malformed: the binary must be rejected at load with that error kind. */
static void cmd_assert_rejected(script *sc, const json_t *cmd, wasm_errkind want)
{
    const char *text = json_string_value(json_object_get(cmd, "text"));
    wasm_error err;
    wasm_module *m = load_module(sc, cmd, &err);
    if (m) {
        fail(sc, "module loaded, expected %s (\"%s\")", wasm_errkind_name(want), text ? text : "");
    } else if (err.kind != want) {
        fail(sc, "expected %s (\"%s\"), got %s: %s", wasm_errkind_name(want), text ? text : "",
             verdict_name(err.kind), err.msg);
    } else if (!message_matches(err.msg, text)) {
        sc->res->message_diffs++;
        if (sc->opt->strict_messages)
            fail(sc, "expected message \"%s\", got \"%s\"", text ? text : "", err.msg);
        else
            pass(sc);
    } else {
        pass(sc);
    }
}

/* assert_unlinkable / assert_uninstantiable: loads, but instantiation must fail. */
static void cmd_assert_instantiation_fails(script *sc, const json_t *cmd, bool trap_expected)
{
    const char *text = json_string_value(json_object_get(cmd, "text"));
    wasm_error err;
    wasm_module *m = load_module(sc, cmd, &err);
    if (!m) {
        fail(sc, "load failed: %s: %s", verdict_name(err.kind), err.msg);
        return;
    }
    wasm_instance *inst;
    if (instantiate(sc, m, &inst, &err) == 0) {
        fail(sc, "instantiated, expected \"%s\"", text ? text : "");
    } else if (trap_expected ? err.kind != WASM_ERR_TRAP || !trap_text_matches(err.trap.kind, text)
                             : err.kind != WASM_ERR_UNLINKABLE || !message_matches(err.msg, text)) {
        fail(sc, "expected %s \"%s\", got %s: %s", trap_expected ? "trap" : "unlinkable",
             text ? text : "", wasm_errkind_name(err.kind), err.msg);
    } else {
        pass(sc);
    }
}

/* ---------------------------------------------------------------- the script */

static void run_command(script *sc, const json_t *cmd)
{
    const char *type = json_string_value(json_object_get(cmd, "type"));
    const char *module_type = json_string_value(json_object_get(cmd, "module_type"));
    sc->line = (long)json_integer_value(json_object_get(cmd, "line"));
    sc->command = type ? type : "?";
    if (module_type && strcmp(module_type, "text") == 0) {
        sc->res->skipped++; /* text-format tests: this engine reads binaries only */
        return;
    }
    if (!type)
        fail(sc, "command without a type");
    else if (strcmp(type, "module") == 0)
        cmd_module(sc, cmd);
    else if (strcmp(type, "register") == 0)
        cmd_register(sc, cmd);
    else if (strcmp(type, "action") == 0)
        cmd_action(sc, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(sc, cmd);
    else if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_trap(sc, cmd);
    else if (strcmp(type, "assert_invalid") == 0)
        cmd_assert_rejected(sc, cmd, WASM_ERR_INVALID);
    else if (strcmp(type, "assert_malformed") == 0)
        cmd_assert_rejected(sc, cmd, WASM_ERR_MALFORMED);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_instantiation_fails(sc, cmd, false);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_instantiation_fails(sc, cmd, true);
    else
        fail(sc, "unknown command type");
}

static void script_free(script *sc)
{
    wasm_store_free(sc->store);
    for (size_t i = 0; i < sc->nmodules; i++)
        wasm_module_free(sc->modules[i]);
    free(sc->modules);
    for (size_t i = 0; i < sc->nnamed; i++)
        free(sc->named[i].name);
    free(sc->named);
    extern_refs_free(&sc->refs);
    free(sc->dir);
}

int run_script(const char *json_path, const char *display_name, const run_options *opt,
               file_result *res)
{
    memset(res, 0, sizeof *res);
    json_error_t jerr;
    json_t *root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
    const json_t *commands = json_object_get(root, "commands");
    if (!json_is_array(commands)) {
        printf("%s: cannot read command script %s: %s\n", display_name, json_path,
               root ? "no \"commands\" array" : jerr.text);
        json_decref(root);
        return -1;
    }
    script sc = {.display = display_name, .opt = opt, .res = res};
    const char *slash = strrchr(json_path, '/');
    sc.dir = slash ? strndup(json_path, (size_t)(slash - json_path)) : strdup(".");
    sc.store = wasm_store_new();
    wasm_error err;
    if (!sc.dir || !sc.store || spectest_host_define(sc.store, &err) != 0) {
        printf("%s: cannot set up the store and spectest module%s%s\n", display_name,
               sc.store ? ": " : "", sc.store ? err.msg : "");
        script_free(&sc);
        json_decref(root);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(commands); i++)
        run_command(&sc, json_array_get(commands, i));
    script_free(&sc);
    json_decref(root);
    return 0;
}
