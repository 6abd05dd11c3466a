/* The command line: the command and option tables, the parser that walks
 * them, the usage text they print, and the commands train and plan.
 * Adding a subcommand is a row in COMMANDS and its handler; adding an
 * option is a row in OPTIONS naming the commands it applies to. */
#include "initsweep/cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#include "initsweep/data.h"
#include "initsweep/grid.h"
#include "initsweep/hessian.h"
#include "initsweep/init.h"
#include "initsweep/meanfield.h"
#include "initsweep/mlp.h"
#include "initsweep/run.h"
#include "initsweep/sched.h"
#include "initsweep/train.h"
#include "isw_revision.h"

/* ---- the tables ---------------------------------------------------------- */

enum { CMD_RUN = 1, CMD_PLAN = 2, CMD_TRAIN = 4, CMD_SUMMARIZE = 8, CMD_REPORT = 16,
       CMD_EXPLAIN = 32 };

typedef struct {
    const char *name;                    /* "run" */
    unsigned bit;                        /* CMD_*: the options that apply name it */
    const char *operand;                 /* "SPEC.yaml" */
    const char *help;                    /* lines after the first indented by 11 */
    int (*handler)(const isw_cli_args_t *args, int *argc, char ***argv);
} command_t;

typedef struct {
    const char *name;                    /* "--set" */
    const char *alias;                   /* "-o", or NULL */
    const char *value;                   /* its value's name ("KEY=VALUE"); NULL: a flag */
    int repeats;                         /* may be given more than once */
    unsigned commands;                   /* CMD_* it applies to */
    int (*set)(isw_cli_args_t *args, const char *value, isw_error_t *err);
    const char *help;                    /* lines after the first indented by 21 */
} option_t;

static int run_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    isw_run_opts_t opts = {args->path, args->outdir, args->sets, args->nsets, args->shard,
                           args->resume, args->fresh, args->quiet};
    return isw_sched_run(&opts, argc, argv);
}

static int plan_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return isw_cli_plan(args);
}

static int train_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return isw_cli_train(args);
}

static int summarize_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return isw_cli_summarize(args);
}

static int explain_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return isw_cli_explain(args);
}

static int report_command(const isw_cli_args_t *args, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return isw_cli_report(args);
}

static const command_t COMMANDS[] = {
    {"run", CMD_RUN, "SPEC.yaml",
     "train every run of the spec's sweep grid (under mpirun/srun on N ranks)\n"
     "into OUTDIR (default results/<spec name>): runs.csv, cells.csv,\n"
     "boundary.csv, fit.csv, geometry.csv, spec.yaml; resumes a journal of the same spec",
     run_command},
    {"plan", CMD_PLAN, "SPEC.yaml", "print the grid, its size and a cost estimate; trains nothing",
     plan_command},
    {"train", CMD_TRAIN, "SPEC.yaml",
     "one run of the spec (its base run, or with --task one of its grid):\n"
     "a line per epoch, then its record", train_command},
    {"summarize", CMD_SUMMARIZE, "OUTDIR",
     "recompute cells.csv, boundary.csv, fit.csv and geometry.csv from OUTDIR/runs.csv\n"
     "(merging a job array's OUTDIR/shard-K-of-N first)",
     summarize_command},
    {"explain", CMD_EXPLAIN, "SPEC.yaml",
     "why the spec's run (or --task N of its grid) trains or fails: the\n"
     "mechanism with its numbers, and one-change counterfactuals that\n"
     "would fix it (in parallel under mpirun -np N)",
     explain_command},
    {"report", CMD_REPORT, "OUTDIR",
     "write OUTDIR/report.html: one self-contained page with the maps, the\n"
     "law, the edge and fit tables, the rules and the provenance\n"
     "(analysis/report.py under /usr/bin/python3 with matplotlib)",
     report_command},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static int bad_option(isw_error_t *err, const char *fmt, const char *what)
{
    isw_error_set(err, ISW_EINVAL, "", 0, fmt, what);
    return ISW_EINVAL;
}

static int set_set(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    if (args->nsets == ISW_MAX_SETS)
        return bad_option(err, "too many --set options (at most %s)", "256");
    args->sets[args->nsets++] = v;
    return ISW_OK;
}

static int set_outdir(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    if (v[0] == '\0')
        return bad_option(err, "%s", "-o: found an empty OUTDIR, expected a directory name");
    args->outdir = v;
    return ISW_OK;
}

static int set_shard(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    (void)err;
    args->shard = v;                     /* checked by the run's set-up */
    return ISW_OK;
}

static int set_ranks(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    char *end;
    long r = strtol(v, &end, 10);
    if (*end || r < 1 || r > 10000000)
        return bad_option(err, "--ranks: found \"%s\", expected a positive integer", v);
    args->ranks = (int)r;
    return ISW_OK;
}

static int set_task(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    char *end;
    errno = 0;
    unsigned long long t = strtoull(v, &end, 10);
    if (*end || !*v || v[0] == '-' || errno == ERANGE)
        return bad_option(err, "--task: found \"%s\", expected a task id (runs.csv's task)", v);
    args->has_task = 1;
    args->task = (uint64_t)t;
    return ISW_OK;
}

static int set_trace(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    size_t n = strlen(v);
    if (n == 0 || v[n - 1] == '/')
        return bad_option(err, "--trace: found \"%s\", expected a file name", v);
    args->trace = v;
    return ISW_OK;
}

static int set_resume(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    (void)v, (void)err;
    args->resume = 1;
    return ISW_OK;
}

static int set_fresh(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    (void)v, (void)err;
    args->fresh = 1;
    return ISW_OK;
}

static int set_quiet(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    (void)v, (void)err;
    args->quiet = 1;
    return ISW_OK;
}

static int set_format(isw_cli_args_t *args, const char *v, isw_error_t *err)
{
    if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
        return bad_option(err, "--format: found \"%s\", expected text or json", v);
    args->json = strcmp(v, "json") == 0;
    return ISW_OK;
}

static const option_t OPTIONS[] = {
    {"--outdir", "-o", "OUTDIR", 0, CMD_RUN, set_outdir,
     "where the run journals (default results/<spec name>)"},
    {"--set", NULL, "KEY=VALUE", 1, CMD_RUN | CMD_PLAN | CMD_TRAIN | CMD_SUMMARIZE | CMD_EXPLAIN,
     set_set,
     "override a dotted key (train.lr=0.5, model.hidden=[15]);\n"
     "on run also a sweep axis: --set 'sweep.train.lr={logspace: [1e-3, 1, 7]}';\n"
     "on summarize only fit.axis and fit.range: --set 'fit.range=[2, 16]'"},
    {"--resume", NULL, NULL, 0, CMD_RUN, set_resume,
     "insist on resuming: fail if OUTDIR holds no journal (a plain\n"
     "run resumes a journal of the same spec anyway)"},
    {"--fresh", NULL, NULL, 0, CMD_RUN, set_fresh,
     "start over, replacing OUTDIR's journal and results"},
    {"--shard", NULL, "K/N", 0, CMD_RUN, set_shard,
     "run only shard K (0-based) of N into OUTDIR/shard-K-of-N;\n"
     "summarize OUTDIR merges the shards"},
    {"--ranks", NULL, "N", 0, CMD_PLAN, set_ranks, "estimate the time on N ranks"},
    {"--quiet", "-q", NULL, 0, CMD_RUN, set_quiet, "no progress lines"},
    {"--task", NULL, "N", 0, CMD_TRAIN | CMD_EXPLAIN, set_task,
     "train task N of the spec's sweep grid (runs.csv's `task`) instead\n"
     "of its base run"},
    {"--format", NULL, "text|json", 0, CMD_EXPLAIN, set_format,
     "explain's report as text (default) or one JSON object"},
    {"--trace", NULL, "FILE", 0, CMD_TRAIN, set_trace,
     "also write every evaluation as a CSV row to FILE (loss, sharpness,\n"
     "per-layer |grad|, ...; analysis/plot_trace.py draws it)"},
};
#define NOPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

/* ---- usage and parsing --------------------------------------------------- */

/* text with every line after the first indented by indent columns */
static void put_indented(FILE *out, const char *text, int indent)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, out);
        if (*p == '\n')
            fprintf(out, "%*s", indent, "");
    }
    fputc('\n', out);
}

static void put_synopsis(FILE *out, const command_t *cmd)
{
    fprintf(out, "  initsweep %s %s", cmd->name, cmd->operand);
    for (size_t o = 0; o < NOPTIONS; o++) {
        const option_t *opt = &OPTIONS[o];
        if (!(opt->commands & cmd->bit))
            continue;
        /* options with a value by their short name: the synopsis stays one line */
        const char *name = opt->alias && opt->value ? opt->alias : opt->name;
        fprintf(out, " [%s%s%s]%s", name, opt->value ? " " : "",
                opt->value ? opt->value : "", opt->repeats ? "..." : "");
    }
    fputc('\n', out);
}

void isw_cli_usage(FILE *out)
{
    fputs("usage:\n", out);
    for (size_t c = 0; c < NCOMMANDS; c++)
        put_synopsis(out, &COMMANDS[c]);
    fputs("  initsweep --help | --help-keys | --schema | --version | --man\n\n", out);
    for (size_t c = 0; c < NCOMMANDS; c++) {
        fprintf(out, "%-10s ", COMMANDS[c].name);
        put_indented(out, COMMANDS[c].help, 11);
    }
    fputc('\n', out);
    for (size_t o = 0; o < NOPTIONS; o++) {
        const option_t *opt = &OPTIONS[o];
        char head[48];
        snprintf(head, sizeof head, "%s%s%s%s%s", opt->alias ? opt->alias : "",
                 opt->alias ? ", " : "", opt->name, opt->value ? " " : "",
                 opt->value ? opt->value : "");
        fprintf(out, "%-20s ", head);
        put_indented(out, opt->help, 21);
    }
    fputs("--help-keys          every spec key: its type, default and range or names\n"
          "--schema             the columns of OUTDIR's files, their types and meanings, as\n"
          "                     JSON (analysis/schema.json)\n"
          "--man                the manual page initsweep(1), as roff\n"
          "\n"
          "OUTDIR is locked while run or summarize works in it: a second one is refused\n"
          "(\"in use by another initsweep job\"); run writes the summaries itself when it ends.\n"
          "exit status: 0 done; 2 bad input (spec, options, data, an OUTDIR in use or\n"
          "holding another spec's files); 3 interrupted (resumable); 1 an I/O failure\n"
          "(permission denied, read-only or full file system, file size limit) or any\n"
          "other failure\n",
          out);
}

/* ---- the man page, initsweep(1), from the same tables ------------------- */

/* text as roff: backslashes and hyphens escaped; inline, so no line of
 * it may be a request (the callers' text has no newline). */
static void roff_inline(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else
            fputc(*p, out);
}

/* text as roff body lines: escaped, a line that would start with a control
 * character (. or ') guarded, every line break of the text kept (.br). */
static void roff_text(FILE *out, const char *text)
{
    int bol = 1;
    for (const char *p = text; *p; p++) {
        if (bol && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        bol = *p == '\n';
        if (*p == '\n')
            fputs("\n.br\n", out);
        else if (*p == '\\' || *p == '-')
            fputs(*p == '\\' ? "\\e" : "\\-", out);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
}

static void roff_synopsis(FILE *out, const command_t *cmd)
{
    fprintf(out, ".B initsweep %s\n", cmd->name);
    fprintf(out, ".I %s\n", cmd->operand);
    for (size_t o = 0; o < NOPTIONS; o++) {
        const option_t *opt = &OPTIONS[o];
        if (!(opt->commands & cmd->bit))
            continue;
        fputs("[\\fB", out);
        roff_inline(out, opt->name);
        if (opt->value) {
            fputs("\\fR \\fI", out);
            roff_inline(out, opt->value);
        }
        fprintf(out, "\\fR]%s\n", opt->repeats ? "..." : "");
    }
    fputs(".br\n", out);
}

void isw_cli_man(FILE *out)
{
    fprintf(out, ".TH INITSWEEP 1 \"\" \"initsweep %s\" \"User Commands\"\n", ISW_VERSION);
    fputs(".SH NAME\ninitsweep \\- maps where neural-network training converges over weight "
          "initialisations and learning rates\n.SH SYNOPSIS\n", out);
    for (size_t c = 0; c < NCOMMANDS; c++)
        roff_synopsis(out, &COMMANDS[c]);
    fputs(".B initsweep\n\\fB\\-\\-help\\fR | \\fB\\-\\-help\\-keys\\fR | \\fB\\-\\-schema\\fR | "
          "\\fB\\-\\-version\\fR | \\fB\\-\\-man\\fR\n", out);
    fputs(".SH DESCRIPTION\n", out);
    roff_text(out, "initsweep trains thousands to millions of small independent MLPs over a "
                   "grid of initialisation families and scales, learning rates, seeds and "
                   "any other hyperparameter of a YAML spec, labels every run (converged, "
                   "diverged, dead, saturated, stalled, slow) and writes, per init setting, "
                   "the learning-rate range where training is stable, with confidence "
                   "intervals, the edges' power-law fits and the failure mechanism outside "
                   "it.  Rank 0 hands the grid out over MPI: run it as a plain process, "
                   "under mpirun -np N, or under srun.");
    fputs(".SH COMMANDS\n", out);
    for (size_t c = 0; c < NCOMMANDS; c++) {
        fprintf(out, ".TP\n.B %s\n", COMMANDS[c].name);
        roff_text(out, COMMANDS[c].help);
    }
    fputs(".SH OPTIONS\n", out);
    for (size_t o = 0; o < NOPTIONS; o++) {
        const option_t *opt = &OPTIONS[o];
        fputs(".TP\n\\fB", out);
        if (opt->alias) {
            roff_inline(out, opt->alias);
            fputs("\\fR, \\fB", out);
        }
        roff_inline(out, opt->name);
        if (opt->value) {
            fputs("\\fR \\fI", out);
            roff_inline(out, opt->value);
        }
        fputs("\\fR\n", out);
        roff_text(out, opt->help);
        fputs(".br\n(", out);
        const char *sep = "";
        for (size_t c = 0; c < NCOMMANDS; c++)
            if (opt->commands & COMMANDS[c].bit) {
                fprintf(out, "%s%s", sep, COMMANDS[c].name);
                sep = ", ";
            }
        fputs(")\n", out);
    }
    fputs(".TP\n\\fB\\-\\-help\\-keys\\fR\nevery spec key: its type, default and range or "
          "names (the table below)\n.TP\n\\fB\\-\\-schema\\fR\nthe columns of OUTDIR's files, "
          "their types and meanings, as JSON\n.TP\n\\fB\\-\\-man\\fR\nthis page, as roff\n",
          out);
    fputs(".SH SPEC KEYS\n", out);
    roff_text(out, "A spec is a YAML mapping of the sections data, model, init, train and "
                   "criteria (the keys below, dotted here as --set takes them), a sweep "
                   "section whose keys are axes over any of them (a list, {linspace: [a, b, "
                   "n]}, {logspace: [a, b, n]} or {range: [start, stop, step]}), an optional "
                   "refine section (axis: train.lr, tolerance, rounds) that bisects each "
                   "slice's edges, and an optional fit section (axis, range) that says how "
                   "fit.csv fits them.");
    isw_key_text_t t;
    for (size_t i = 0; i < isw_spec_key_count(); i++) {
        isw_spec_key_describe(i, &t);
        fputs(".TP\n\\fB", out);
        roff_inline(out, t.key);
        fprintf(out, "\\fR (%s, default \\fI", t.type);
        roff_inline(out, t.def);
        fputs("\\fR)\n", out);
        roff_text(out, t.expect);
        fputs(".br\n", out);
        roff_text(out, t.help);
    }
    fputs(".SH FILES\n", out);
    roff_text(out, "OUTDIR (default results/<spec name>) holds runs.csv, the crash-safe "
                   "journal with one record per run; journal.meta, its identity; spec.yaml, "
                   "the resolved spec; cells.csv, boundary.csv, fit.csv and geometry.csv, the summaries "
                   "(initsweep --schema lists every column); .lock while a job works "
                   "there.  initsweep-plot OUTDIR draws the stability map, the outcome map "
                   "and the law plot into OUTDIR/plots.  The example sweeps, the Slurm "
                   "templates and the plotting scripts are installed under "
                   "share/initsweep of the installation prefix.");
    fputs(".SH EXIT STATUS\n", out);
    roff_text(out, "0 done; 2 bad input (spec, options, data, an OUTDIR in use or holding "
                   "another spec's files), with a message naming the file, the line, what "
                   "was found and what was expected; 3 interrupted (SIGINT or SIGTERM: the "
                   "journal is flushed, the same command resumes); 1 an I/O failure or any "
                   "other failure.");
    fputs(".SH ENVIRONMENT\n.TP\n.B OPENBLAS_CORETYPE\n", out);
    roff_text(out, "forces OpenBLAS's kernel set; journal.meta records each rank's, and a job "
                   "whose ranks differ is warned about (float results near an edge can "
                   "depend on it).");
    fputs(".TP\n.B OPENBLAS_NUM_THREADS\n", out);
    roff_text(out, "ignored: every rank uses one BLAS thread.");
    fputs(".SH SEE ALSO\n.BR mpirun (1),\n.BR srun (1),\n.BR sbatch (1)\n", out);
}

/* "run, plan, train or summarize": the table's command names. */
static void command_names(char *buf, size_t size)
{
    isw_sb_t b;
    isw_sb_fixed(&b, buf, size);
    for (size_t c = 0; c < NCOMMANDS; c++)
        isw_sb_printf(&b, "%s%s", c == 0 ? "" : c + 1 < NCOMMANDS ? ", " : " or ",
                      COMMANDS[c].name);
}

static const command_t *find_command(const char *name)
{
    for (size_t c = 0; c < NCOMMANDS; c++)
        if (strcmp(COMMANDS[c].name, name) == 0)
            return &COMMANDS[c];
    return NULL;
}

/* The option a word names ("--set=K=V" names --set, with its value after
 * the '='); NULL when none. */
static const option_t *find_option(const char *word, const char **inline_value)
{
    *inline_value = NULL;
    for (size_t o = 0; o < NOPTIONS; o++) {
        const option_t *opt = &OPTIONS[o];
        size_t n = strlen(opt->name);
        if (strcmp(word, opt->name) == 0 || (opt->alias && strcmp(word, opt->alias) == 0))
            return opt;
        if (opt->value && strncmp(word, opt->name, n) == 0 && word[n] == '=') {
            *inline_value = word + n + 1;
            return opt;
        }
    }
    return NULL;
}

/* One option word (and its value, the next word unless given inline);
 * *i moves past what it consumed. */
static int parse_option(isw_cli_args_t *args, const command_t *cmd, int *i, int argc,
                        char **argv, isw_error_t *err)
{
    const char *word = argv[*i], *value;
    const option_t *opt = find_option(word, &value);
    if (!opt)
        return bad_option(err, "unknown option \"%s\" (see --help)", word);
    /* each command takes only its own options: one that would be ignored
     * is refused, so a user never believes it had an effect */
    if (!(opt->commands & cmd->bit))
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s does not apply to %s (see --help)",
                             word, cmd->name);
    if (opt->value && !value) {
        if (*i + 1 >= argc)
            return bad_option(err, "option %s needs a value", word);
        value = argv[++*i];
    }
    return opt->set(args, value, err);
}

int isw_cli_parse(isw_cli_args_t *args, int argc, char **argv, isw_error_t *err)
{
    memset(args, 0, sizeof *args);
    char names[128];
    command_names(names, sizeof names);
    if (argc < 2)
        return isw_error_set(err, ISW_EINVAL, "", 0, "no command given; expected %s (see --help)",
                             names);
    const command_t *cmd = find_command(argv[1]);
    if (!cmd)
        return isw_error_set(err, ISW_EINVAL, "", 0, "unknown command \"%s\"; expected %s",
                             argv[1], names);
    args->command = cmd->name;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int st = ISW_OK;
        if (a[0] == '-' && a[1] != '\0')
            st = parse_option(args, cmd, &i, argc, argv, err);
        else if (!args->path)
            args->path = a;
        else
            st = bad_option(err, "unexpected argument \"%s\" (see --help)", a);
        if (st != ISW_OK)
            return st;
    }
    if (!args->path)
        return isw_error_set(err, ISW_EINVAL, "", 0, "%s: missing %s argument", cmd->name,
                             cmd->operand);
    if (args->resume && args->fresh)
        return bad_option(err, "%s", "--resume and --fresh exclude each other");
    /* train runs the spec's base run unless --task picks one of its grid:
     * only then does a sweep axis mean anything; refinement never does */
    if (strcmp(args->command, "train") == 0 || strcmp(args->command, "explain") == 0)
        for (int i = 0; i < args->nsets; i++) {
            const char *v = args->sets[i];
            if ((strncmp(v, "sweep.", 6) == 0 && !args->has_task) ||
                strncmp(v, "refine.", 7) == 0 || strncmp(v, "fit.", 4) == 0)
                return isw_error_set(err, ISW_EINVAL, "", 0,
                                     "--set %.200s: %s runs the spec's base run%s, so %s "
                                     "keys do not apply (set the key itself, or use run)", v,
                                     args->command, args->has_task ? " or a grid task" : "",
                                     v[0] == 's' ? "sweep" : v[0] == 'r' ? "refine" : "fit");
        }
    return ISW_OK;
}

/* Start-up common to every command: past `ulimit -f` a write must fail
 * with EFBIG (an I/O error, exit 1, the journal cut back to its last whole
 * line), not kill the process; GSL reports errors instead of aborting; one
 * BLAS thread per process (a rank is one core). */
static void startup(void)
{
    signal(SIGXFSZ, SIG_IGN);
    gsl_set_error_handler_off();
    isw_mlp_blas_threads(1);
}

int isw_cli_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        isw_cli_usage(stdout);
        return ISW_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("initsweep %s (git %s)\n", ISW_VERSION, ISW_GIT_REVISION);
        return ISW_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--schema") == 0)
        return isw_cli_schema(stdout);
    if (argc >= 2 && strcmp(argv[1], "--man") == 0) {
        isw_cli_man(stdout);
        return ISW_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--help-keys") == 0) {
        isw_spec_keys_help(stdout);
        return ISW_EXIT_OK;
    }
    startup();
    isw_cli_args_t args;
    isw_error_t err;
    isw_error_clear(&err);
    if (isw_cli_parse(&args, argc, argv, &err) != ISW_OK) {
        fprintf(stderr, "initsweep: %s\n", err.text);
        return ISW_EXIT_INPUT;
    }
    return find_command(args.command)->handler(&args, &argc, &argv);
}

/* ---- train --------------------------------------------------------------- */

/* The error, printed, as the exit status. */
static int fail(int st, const isw_error_t *err)
{
    isw_error_print(stderr, err);
    return isw_exit_status(st);
}

static int print_epoch(const isw_epoch_t *ep, void *user)
{
    FILE *out = user;
    fprintf(out, "epoch %4d  loss %-12.6g", ep->epoch, ep->loss);
    if (!isnan(ep->accuracy))
        fprintf(out, "  acc %.4f", ep->accuracy);
    fputs("  |grad|", out);
    for (int l = 0; l < ep->nlayers; l++)
        fprintf(out, " %.3g", ep->grad_norm[l]);
    if (!isnan(ep->sharpness))
        fprintf(out, "  sharp %.6g", ep->sharpness);
    fprintf(out, "  dead %.3f  sat %.3f  outsat %.3f%s\n", ep->dead_fraction,
            ep->saturated_fraction, ep->output_saturated_fraction,
            ep->layer_dead ? "  (a layer is dead)" : "");
    fflush(out);
    return 0;
}

/* The record as train prints it: one column per line, reals to 9 digits,
 * nothing after the name when a value is not defined. */
static void print_record(FILE *out, const isw_record_t *r)
{
    fputs("record:\n", out);
    for (int c = 0; c < ISW_RECORD_NCOLUMNS; c++) {
        char text[ISW_RECORD_FIELD_MAX + 1];
        isw_sb_t b;
        isw_sb_fixed(&b, text, sizeof text);
        if (isw_record_format_digits(&b, r, c, 9) != 0 || !isw_sb_ok(&b))
            text[0] = '\0';
        if (text[0])
            fprintf(out, "  %-26s %s\n", isw_record_columns[c].name, text);
        else
            fprintf(out, "  %-26s\n", isw_record_columns[c].name);
    }
}

/* The evaluations of a traced run, kept for its CSV. */
typedef struct {
    FILE *out;                           /* the epoch lines */
    isw_epoch_t *ep;
    size_t n, cap;
    int failed;                          /* out of memory: the trace is refused at the end */
} trace_t;

static int trace_epoch(const isw_epoch_t *ep, void *user)
{
    trace_t *t = user;
    print_epoch(ep, t->out);
    if (t->n == t->cap && !t->failed) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        isw_epoch_t *p = realloc(t->ep, cap * sizeof *p);
        if (!p)
            t->failed = 1;
        else
            t->ep = p, t->cap = cap;
    }
    if (!t->failed)
        t->ep[t->n++] = *ep;
    return 0;
}

typedef struct {
    const trace_t *t;
    double lr;                           /* the run's lr_used */
} trace_file_t;

/* ",%.17g", or "," alone for NaN (not defined). */
static void put_real(FILE *out, double x)
{
    fputc(',', out);
    if (!isnan(x))
        fprintf(out, "%.17g", x);
}

/* The trace CSV: one row per evaluation (with full batch, per step). */
static int write_trace(FILE *out, void *user, isw_error_t *err)
{
    (void)err;
    const trace_file_t *tf = user;
    const trace_t *t = tf->t;
    int L = t->n ? t->ep[0].nlayers : 0;
    fputs("epoch,loss,loss_ratio,accuracy,grad_norm", out);
    for (int l = 0; l < L; l++)
        fprintf(out, ",grad_norm_%d", l);
    fputs(",sharpness,lr,lr_times_sharpness_over_2,dead_fraction,saturated_fraction,"
          "output_saturated_fraction,layer_dead", out);
    for (int l = 0; l + 1 < L; l++)
        fprintf(out, ",act_mean_%d,q_%d,flat_share_%d", l, l, l);
    fputc('\n', out);
    double loss0 = t->n ? t->ep[0].loss : NAN;
    for (size_t i = 0; i < t->n; i++) {
        const isw_epoch_t *e = &t->ep[i];
        double g = 0;
        for (int l = 0; l < L; l++)
            g += e->grad_norm[l] * e->grad_norm[l];
        double v[] = {e->loss, e->loss / loss0, e->accuracy, sqrt(g)};
        fprintf(out, "%d", e->epoch);
        for (size_t k = 0; k < 4; k++)
            put_real(out, v[k]);
        for (int l = 0; l < L; l++)
            put_real(out, e->grad_norm[l]);
        double w[] = {e->sharpness, tf->lr, e->sharpness * tf->lr / 2, e->dead_fraction,
                      e->saturated_fraction, e->output_saturated_fraction};
        for (size_t k = 0; k < 6; k++)
            put_real(out, w[k]);
        fprintf(out, ",%d", e->layer_dead);
        for (int l = 0; l + 1 < L; l++) {
            put_real(out, e->act_mean[l]);
            put_real(out, e->q[l]);
            put_real(out, e->flat_share[l]);
        }
        fputc('\n', out);
    }
    return ISW_OK;
}

/* FILE's directory and name, for isw_file_write_atomic; 0 when the
 * directory does not fit in dn bytes. */
static int split_path(const char *path, char *dir, size_t dn, const char **name)
{
    const char *slash = strrchr(path, '/');
    int len;
    if (!slash) {
        len = snprintf(dir, dn, ".");
        *name = path;
    } else {
        len = snprintf(dir, dn, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        *name = slash + 1;
    }
    return len >= 0 && (size_t)len < dn;
}

/* The spec of grid task `task` of the spec's sweep. */
int isw_cli_task_spec(isw_spec_t *spec, const isw_sweep_t *sweep, uint64_t task, isw_error_t *err)
{
    isw_grid_t grid;
    int st = isw_grid_init(&grid, sweep, err);
    if (st != ISW_OK)
        return st;
    if (task >= grid.ntasks)
        st = isw_error_set(err, ISW_EINVAL, "", 0,
                           "--task: found %llu, expected a grid task 0..%llu (refinement "
                           "probes are not in the grid)",
                           (unsigned long long)task, (unsigned long long)grid.ntasks - 1);
    else {
        isw_spec_t t;
        st = isw_grid_task_spec(&t, &grid, spec, task, err);
        if (st == ISW_OK)
            *spec = t;
    }
    return st;
}

int isw_cli_run_spec(isw_spec_t *spec, const isw_cli_args_t *args, isw_error_t *err)
{
    isw_sweep_t sweep;
    memset(&sweep, 0, sizeof sweep);
    int st = isw_run_load_spec(spec, &sweep, args->path, args->sets, args->nsets, err);
    if (st == ISW_OK && args->has_task)
        st = isw_cli_task_spec(spec, &sweep, args->task, err);
    isw_sweep_free(&sweep);
    return st;
}

int isw_cli_train(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    isw_spec_t spec;
    int st = isw_cli_run_spec(&spec, args, &err);
    if (st != ISW_OK)
        return fail(st, &err);
    /* the trace's directory must be there, and the name free for a file,
     * before a long run, not after */
    char dir[ISW_PATH_MAX];
    const char *name = NULL;
    if (args->trace) {
        struct stat sb;
        if (!split_path(args->trace, dir, sizeof dir, &name))
            return fail(isw_error_set(&err, ISW_EINVAL, "", 0, "--trace: the path is longer "
                                      "than %d bytes", ISW_PATH_MAX - 1), &err);
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return fail(isw_error_set(&err, ISW_EINVAL, "", 0,
                                      "--trace %s: found no directory %s, expected an "
                                      "existing one", args->trace, dir),
                        &err);
        if (!strcmp(name, ".") || !strcmp(name, "..") ||
            (stat(args->trace, &sb) == 0 && !S_ISREG(sb.st_mode)))
            return fail(isw_error_set(&err, ISW_EINVAL, "", 0,
                                      "--trace %s: found a directory or special file, "
                                      "expected a file name", args->trace),
                        &err);
    }
    isw_data_t data;
    if ((st = isw_data_load(&data, &spec, &err)) != ISW_OK)
        return fail(st, &err);
    printf("# %s: %zu samples, %zu inputs, %zu outputs%s; %zu parameters; lr %g, %s, %s\n",
           spec.name, data.n, data.nin, data.nout, data.classes ? " (classes)" : "",
           isw_mlp_nparams(&spec.model, data.nin, data.nout), spec.train.lr,
           isw_dist_name(spec.init.dist), spec.train.precision == ISW_PREC_FLOAT ? "float" : "double");
    int sharp = isw_train_wants_sharpness(&spec);
    if (sharp)
        printf("# sharpness_initial is computed before epoch 0's line\n");
    isw_record_t rec;
    isw_record_init(&rec, 0);
    spec.train.eval_gradient = 1;         /* every epoch's line shows |grad| */
    trace_t trace = {stdout, NULL, 0, 0, 0};
    st = isw_train_run(&rec, &spec, &data, trace_epoch, &trace, &err);
    /* the record first: a trace that cannot be written loses only itself */
    if (st == ISW_OK)
        print_record(stdout, &rec);
    if (st == ISW_OK && args->trace) {
        trace_file_t tf = {&trace, rec.lr_used};
        if (trace.failed)
            st = isw_error_set(&err, ISW_ENOMEM, args->trace, 0, "out of memory for the trace");
        else
            st = isw_file_write_atomic(dir, name, write_trace, &tf, &err);
    }
    free(trace.ep);
    if (st != ISW_OK) {
        isw_data_free(&data);
        return fail(st, &err);
    }
    if (sharp && rec.sharpness_initial > 0)
        printf("  %-26s %.9g\n", "lr_times_sharpness_over_2",
               rec.lr_used * rec.sharpness_initial / 2);
    if (sharp && spec.train.sharpness_method == ISW_SHARP_LANCZOS) {
        /* the next few eigenvalues, from a Lanczos run of the same length */
        double top[5];
        if (isw_train_sharpness(top, 5, &spec, &data, &err) == ISW_OK) {
            printf("  %-26s", "hessian_top");
            for (int i = 0; i < 5 && isfinite(top[i]); i++)
                printf(" %.9g", top[i]);
            printf("\n");
        }
    }
    isw_data_free(&data);
    return ISW_EXIT_OK;
}

/* ---- plan ---------------------------------------------------------------- */

/* Runs per second rank 0 can hand out and journal, measured with
 * bench/bench_coordinator.sh on zero-length runs (25-35 us per run). */
#define COORDINATOR_RUNS_PER_S 3e4

static void print_axis(const isw_axis_t *ax)
{
    isw_axis_buf_t na, nb;
    const char *a = isw_axis_text(ax, 0, &na), *b = isw_axis_text(ax, ax->n - 1, &nb);
    static const char *const forms[] = {"list", "linspace", "logspace", "range"};
    printf("  %-24s %6zu values  %s", ax->key, ax->n, forms[ax->form]);
    if (ax->n <= 6) {
        printf(":");
        for (size_t i = 0; i < ax->n; i++) {
            printf(" %s", isw_axis_text(ax, i, &na));
        }
        printf("\n");
    } else {
        printf(" %s .. %s\n", a, b);
    }
}

/* The spec, its data and its grid, with its runs and refinement probes. */
static void plan_grid(const isw_run_job_t *job, const isw_data_t *data)
{
    const isw_sweep_t *sweep = &job->sweep;
    const isw_grid_t *grid = &job->grid;
    printf("spec       %s (%s)\n", job->spec.name, job->opts.spec_path);
    printf("data       %zu samples, %zu inputs, %zu outputs%s\n", data->n, data->nin, data->nout,
           data->classes ? " (one-hot classes)" : "");
    printf("axes       %d (the first varies slowest)\n", sweep->naxes);
    for (int a = 0; a < sweep->naxes; a++)
        print_axis(&sweep->axes[a]);
    printf("runs       %llu", (unsigned long long)grid->ntasks);
    if (sweep->refine.enabled && grid->lr_axis >= 0) {
        uint64_t nlr = grid->dims[grid->lr_axis];
        uint64_t nseed = grid->seed_axis >= 0 ? grid->dims[grid->seed_axis] : 1;
        uint64_t slices = grid->ntasks / (nlr * nseed);
        printf(" + at most %llu refinement probes (%llu slices x 2 edges x %d rounds x %llu seeds)",
               (unsigned long long)(slices * 2 * (uint64_t)sweep->refine.rounds * nseed),
               (unsigned long long)slices, sweep->refine.rounds, (unsigned long long)nseed);
    }
    printf("\n");
}

/* Lanes of the packs of the first task's family (DESIGN.md, Packs). */
static int plan_lanes(const isw_grid_t *grid, const isw_spec_t *first, const isw_data_t *data)
{
    uint64_t unit = grid->family_size < grid->unit_size ? grid->family_size : grid->unit_size;
    return isw_train_pack_lanes(first, data, (size_t)unit);
}

/* Parameters, FLOP and memory of the first task's model (axes may change
 * it per task). */
static void plan_cost(const isw_grid_t *grid, const isw_spec_t *first, const isw_data_t *data)
{
    size_t n = data->n, batch = first->train.batch > 0 ? (size_t)first->train.batch : n;
    size_t rows = batch < n ? batch : n, evalrows = n < 2048 ? n : 2048;
    int lanes = plan_lanes(grid, first, data);
    double flops_epoch = isw_mlp_flops(&first->model, data->nin, data->nout, n);
    size_t net_bytes = isw_mlp_nbytes(&first->model, data->nin, data->nout, first->train.precision,
                                      rows > evalrows ? rows : evalrows, lanes);
    double data_bytes = (double)isw_data_nfloats(n, data->nin, data->nout) * sizeof(float);
    printf("per run    %zu parameters, %.3g FLOP per epoch (training; an evaluation pass "
           "costs about as much again), %d epochs at most\n",
           isw_mlp_nparams(&first->model, data->nin, data->nout), flops_epoch,
           first->train.epochs);
    printf("packs      %d net%s trained together (%llu runs per pack family, in units of at "
           "most %llu)\n", lanes, lanes > 1 ? "s" : "", (unsigned long long)grid->family_size,
           (unsigned long long)grid->unit_size);
    printf("memory     %.1f MiB per rank for the network%s, %.1f MiB per node for the "
           "shared dataset\n", (double)net_bytes / 1048576.0, lanes > 1 ? "s of a pack" : "",
           data_bytes / 1048576.0);
}

/* Mean seconds per run of one pack of specs[0..n) trained for `epochs`
 * epochs (no early stop; a sharpness probe at init counts in it); NaN when
 * it fails. */
static double plan_pack_seconds(isw_spec_t *specs, isw_record_t *recs, size_t n, int epochs,
                                const isw_data_t *data)
{
    isw_error_t err;
    for (size_t j = 0; j < n; j++)
        specs[j].train.epochs = epochs;
    if (isw_train_pack(recs, specs, n, data, NULL, NULL, NULL, NULL, &err) != ISW_OK)
        return NAN;
    double s = 0;
    for (size_t j = 0; j < n; j++)
        s += recs[j].seconds;
    return s / (double)n;
}

/* Seconds of a full-length run, at each of up to three tasks spread over
 * the grid, from the pack of the task's unit (its first runs, as many as
 * the lanes) trained twice: for 1 epoch and for a few more.  The
 * difference is the cost of an epoch, free of what a run pays once
 * (allocation, the first touch of its memory, the first evaluation), which
 * dwarfs one short epoch; full length = the 1-epoch time + (E - 1) epochs.
 * *ncal says how many packs trained (0: no estimate). */
static double plan_calibrate(const isw_run_job_t *job, const isw_data_t *data, int *ncal)
{
    const isw_grid_t *grid = &job->grid;
    uint64_t picks[3] = {0, grid->ntasks / 2, grid->ntasks - 1};
    uint64_t last_unit = UINT64_MAX;
    double secs = 0.0;
    isw_spec_t *specs = malloc(ISW_MAX_LANES * sizeof *specs);
    isw_record_t recs[ISW_MAX_LANES];
    uint64_t tasks[ISW_MAX_LANES];
    *ncal = 0;
    for (int i = 0; specs && i < 3; i++) {
        uint64_t unit = isw_grid_unit_of(grid, picks[i]);
        if (unit == last_unit)
            continue;
        last_unit = unit;
        size_t n = isw_grid_unit_tasks(grid, unit, tasks), ok = 0;
        int full_epochs = 0;
        isw_error_t err;
        for (size_t j = 0; j < n; j++) {
            if (isw_grid_task_spec(&specs[ok], grid, &job->spec, tasks[j], &err) != ISW_OK)
                break;
            full_epochs = specs[ok].train.epochs;
            specs[ok].criteria.stop_on_target = specs[ok].criteria.stop_on_flat = 0;
            recs[ok].task = tasks[j];
            ok++;
        }
        if (ok < n)
            continue;
        n = (size_t)isw_train_pack_lanes(&specs[0], data, n);
        double t1 = plan_pack_seconds(specs, recs, n, full_epochs > 0 ? 1 : 0, data);
        if (!isfinite(t1))
            continue;
        double run_s = t1;
        if (full_epochs > 1) {
            /* a few more epochs: up to 9 when one is cheap, 2 when not */
            int more = full_epochs < 9 ? full_epochs : 9;
            if (t1 > 0.01)
                more = 2;
            double tm = plan_pack_seconds(specs, recs, n, more, data);
            double per_epoch = isfinite(tm) && tm > t1 ? (tm - t1) / (more - 1) : t1;
            run_s = t1 + per_epoch * (full_epochs - 1);
        }
        secs += run_s;
        (*ncal)++;
    }
    free(specs);
    return *ncal ? secs / *ncal : 0.0;
}

static void plan_estimate(const isw_run_job_t *job, const isw_data_t *data, int ranks)
{
    int ncal;
    double mean = plan_calibrate(job, data, &ncal);
    if (ncal == 0)
        return;
    uint64_t ntasks = job->grid.ntasks;
    double total = mean * (double)ntasks / ranks;
    printf("estimate   %.3g s per full-length run (from %d calibration pack%s); "
           "at most %.3g s = %.2f h on %d rank%s\n"
           "           (diverging and early-stopping runs end sooner)\n",
           mean, ncal, ncal > 1 ? "s" : "", total, total / 3600.0, ranks, ranks > 1 ? "s" : "");
    /* Rank 0 hands out and journals every run: on the order of 3e4 runs/s
     * (bench/bench_coordinator.sh).  Very short runs on many ranks hit that
     * ceiling before they run out of cores. */
    double floor_s = (double)ntasks / COORDINATOR_RUNS_PER_S;
    if (floor_s > total)
        printf("           note: rank 0 journals about %.0f runs/s, so this sweep takes at "
               "least %.3g s however many ranks run it\n",
               COORDINATOR_RUNS_PER_S, floor_s);
}

/* plan checks what run checks before training (the spec, the grid, every
 * data group's dataset, the memory), then prints and calibrates. */
/* The mean-field picture of the first task's init (isw_train_meanfield). */
static void plan_meanfield(const isw_spec_t *spec, const isw_data_t *data)
{
    const isw_model_spec_t *m = &spec->model;
    isw_meanfield_t mf;
    double sw2, sb2;
    if (isw_train_meanfield(&mf, &sw2, &sb2, spec, data) != ISW_OK)
        return;
    size_t fan_in = m->nhidden >= 2 ? (size_t)m->hidden[0] : data->nin;
    printf("mean field task 0: sigma_w^2 %.4g, sigma_b^2 %.4g (%s, fan-in %zu): ", sw2, sb2,
           isw_act_name(m->activation), fan_in);
    if (isinf(mf.q_star)) {
        printf("q* infinite (the signal grows without bound with depth)\n");
        return;
    }
    printf("q* %.4g, chi_1 %.4g (%s), c* %.4g, xi_c %.4g layers%s\n", mf.q_star, mf.chi1,
           mf.chi1 < 0.99 ? "ordered: gradients vanish with depth"
           : mf.chi1 > 1.01 ? "chaotic: gradients explode with depth" : "at the order-chaos line",
           mf.c_star, mf.xi_c,
           spec->init.mean != 0 ? " (the theory assumes zero-mean weights; init.mean is not 0)"
                                : "");
}

int isw_cli_plan(const isw_cli_args_t *args)
{
    isw_error_t err;
    isw_error_clear(&err);
    isw_run_opts_t opts = {.spec_path = args->path, .sets = args->sets, .nsets = args->nsets};
    isw_run_job_t job;
    isw_data_t data;
    memset(&data, 0, sizeof data);
    isw_spec_t g0, first;
    int st = isw_run_setup(&job, &opts, &err);
    if (st == ISW_OK && (st = isw_grid_group_spec(&g0, &job.grid, &job.spec, 0, &err)) == ISW_OK)
        st = isw_data_load(&data, &g0, &err);
    if (st == ISW_OK)
        st = isw_run_identify_data(&job, &data, NULL, &err);
    if (st == ISW_OK) {
        plan_grid(&job, &data);
        st = isw_grid_task_spec(&first, &job.grid, &job.spec, 0, &err);
    }
    if (st == ISW_OK)
        st = isw_grid_check_memory(&job.grid, &job.spec, &data, &err);
    if (st == ISW_OK) {
        plan_cost(&job.grid, &first, &data);
        plan_meanfield(&first, &data);
        plan_estimate(&job, &data, args->ranks > 0 ? args->ranks : 1);
    } else if (err.file[0] == '\0') {
        snprintf(err.file, sizeof err.file, "%s", args->path);
    }
    isw_data_free(&data);
    isw_run_close(&job, ISW_EXIT_OK);
    return st == ISW_OK ? ISW_EXIT_OK : fail(st, &err);
}
