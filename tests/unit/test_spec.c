/* Spec loading, defaults, axes, overrides, the write/read round trip and the
 * error messages (file:line, key, what was found, what was expected). */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#include "initsweep/grid.h"
#include "initsweep/spec.h"

/* The INTERFACE.md example with a synthetic data section. */
/* Layers whose lr multiplier the spec set (by list or by key); the
 * multipliers past it are 1. */
static int lr_layers_set(const isw_train_spec_t *t)
{
    return t->lr_layer_list > t->lr_layer_keys ? t->lr_layer_list : t->lr_layer_keys;
}

static const char full_yaml[] =
    "name: seed2-sigmoid-saturation\n"
    "seed: 1                       # base seed\n"
    "data:\n"
    "  kind: synthetic\n"
    "  generator: blobs\n"
    "  samples: 500\n"
    "  inputs: 8\n"
    "  classes: 4\n"
    "  noise: 0.25\n"
    "  normalize: 2\n"
    "model:\n"
    "  hidden: [15]\n"
    "  activation: sigmoid\n"
    "  output: sigmoid\n"
    "  loss: mse\n"
    "  bias: true\n"
    "  parameterization: standard\n"
    "init:\n"
    "  dist: uniform_positive\n"
    "  scale: 1.0\n"
    "  bias: same\n"
    "train:\n"
    "  lr: 0.5\n"
    "  lr_layer: [1.0, 0.5]\n"
    "  momentum: 0.0\n"
    "  precision: double\n"
    "  epochs: 30\n"
    "  batch: 10\n"
    "  shuffle: false\n"
    "criteria:\n"
    "  target_accuracy: 0.8\n"
    "  patience: 5\n"
    "  min_improvement: 1.0e-3\n"
    "sweep:\n"
    "  init.dist: [uniform_positive, uniform]\n"
    "  init.scale: {logspace: [0.125, 4, 11]}\n"
    "  train.lr: {logspace: [1.0e-4, 10, 21]}\n"
    "  seed: {range: [0, 8]}\n"
    "refine:\n"
    "  axis: train.lr\n"
    "  tolerance: 0.02\n"
    "  rounds: 7\n";

static const char idx_yaml[] =
    "data:\n"
    "  kind: idx\n"
    "  images: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\n"
    "  labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz\n"
    "  limit: 10000\n"
    "  normalize: 255\n"
    "model:\n"
    "  hidden: [15]\n"
    "  activation: sigmoid\n"
    "  output: sigmoid\n"
    "  loss: mse\n"
    "train:\n"
    "  lr: 0.5\n";

static const char *axis_text(const isw_axis_t *ax, size_t i)
{
    static isw_axis_buf_t buf;
    return isw_axis_text(ax, i, &buf);
}

/* Loads text; returns the status and prints the error on failure when
 * expect_ok is set, so a failing test shows why. */
static int load(isw_spec_t *s, isw_sweep_t *sw, const char *text, const char *name,
                isw_error_t *err, int expect_ok)
{
    int st = isw_spec_load_string(s, sw, text, name, err);
    if (st && expect_ok)
        isw_error_print(stderr, err);
    return st;
}

/* err as isw_error_print prints it (without the newline). */
static const char *err_line(const isw_error_t *err)
{
    static char buf[2048];
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    isw_error_print(f, err);
    fclose(f);
    snprintf(buf, sizeof buf, "%s", p);
    free(p);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* Message of loading text named "spec.yaml" (must fail). */
static const char *load_error(const char *text)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    int st = isw_spec_load_string(&s, &sw, text, "spec.yaml", &err);
    CHECK_INT(st, ISW_EINVAL);
    return st ? err_line(&err) : "(loaded without error)";
}

static void test_defaults(void)
{
    isw_spec_t s;
    isw_error_t err;
    isw_spec_defaults(&s);
    CHECK_INT(s.data.kind, ISW_DATA_SYNTHETIC);
    CHECK_INT(s.data.generator, ISW_GEN_XOR);
    CHECK_INT(s.data.samples, 1000);
    CHECK_INT(s.data.inputs, 2);
    CHECK_INT(s.data.targets, 1);
    CHECK_NEAR(s.data.noise, 0.1, 0);
    CHECK_INT(s.data.teacher_hidden, 16);
    CHECK_INT(s.data.classes, 0);
    CHECK_INT(s.data.limit, 0);
    CHECK_NEAR(s.data.normalize, 1.0, 0);
    CHECK_INT(s.data.header, 1);
    CHECK_INT(s.model.nhidden, 1);
    CHECK_INT(s.model.hidden[0], 32);
    CHECK_INT(s.model.activation, ISW_ACT_RELU);
    CHECK_INT(s.model.bias, 1);
    CHECK_INT(s.model.parameterization, ISW_PARAM_STANDARD);
    CHECK_NEAR(s.model.leaky_slope, 0.01, 0);
    CHECK_INT(s.init.dist, ISW_DIST_HE_NORMAL);
    CHECK_NEAR(s.init.scale, 1.0, 0);
    CHECK_NEAR(s.init.mean, 0.0, 0);
    CHECK_INT(s.init.bias, ISW_BIAS_ZERO);
    CHECK_NEAR(s.train.lr, 0.1, 0);
    CHECK_INT(lr_layers_set(&s.train), 0);
    CHECK_NEAR(s.train.lr_layer[0], 1.0, 0);
    CHECK_NEAR(s.train.lr_layer[ISW_MAX_LAYERS - 1], 1.0, 0);
    CHECK_NEAR(s.train.momentum, 0, 0);
    CHECK_INT(s.train.precision, ISW_PREC_FLOAT);
    CHECK_INT(s.train.epochs, 30);
    CHECK_INT(s.train.batch, 32);
    CHECK_INT(s.train.shuffle, 1);
    CHECK_INT(s.train.sharpness, 0);
    CHECK_INT(s.train.sharpness_iters, 20);
    CHECK_INT(s.train.eval_samples, 0);
    CHECK(isnan(s.criteria.target_accuracy));
    CHECK(isnan(s.criteria.target_loss));
    CHECK(isnan(s.criteria.target_loss_ratio));
    CHECK_INT(s.criteria.stop_on_target, 1);
    CHECK_INT(s.criteria.patience, 5);
    CHECK_NEAR(s.criteria.min_improvement, 1e-3, 0);
    CHECK_INT(s.criteria.stop_on_flat, 1);
    CHECK_NEAR(s.criteria.diverge_ratio, 1e10, 0);
    CHECK_NEAR(s.criteria.diverge_end_ratio, 10, 0);
    CHECK_NEAR(s.criteria.dead_fraction, 0.5, 0);
    CHECK_NEAR(s.criteria.saturated_fraction, 0.5, 0);
    CHECK_NEAR(s.criteria.saturation_derivative, 1e-3, 0);
    CHECK_INT(s.seed, 0);
    CHECK_INT(s.base_seed, 0);

    /* Resolution: xor is 2-class classification -> softmax, cross_entropy,
     * target_accuracy 0.9. */
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    CHECK_INT(isw_spec_is_classification(&s), 1);
    CHECK_INT(s.data.classes, 2);
    CHECK_INT(s.model.output, ISW_OUT_SOFTMAX);
    CHECK_INT(s.model.loss, ISW_LOSS_CROSS_ENTROPY);
    CHECK_NEAR(s.criteria.target_accuracy, 0.9, 0);
    CHECK(isnan(s.criteria.target_loss_ratio));
    CHECK_INT(isw_spec_layers(&s), 2);

    /* Regression data -> linear, mse, target_loss_ratio 0.01; and the
     * resolution follows a later change of generator. */
    CHECK_INT(isw_spec_set(&s, "data.generator", "linear", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    CHECK_INT(isw_spec_is_classification(&s), 0);
    CHECK_INT(s.data.classes, 0);
    CHECK_INT(s.model.output, ISW_OUT_LINEAR);
    CHECK_INT(s.model.loss, ISW_LOSS_MSE);
    CHECK(isnan(s.criteria.target_accuracy));
    CHECK_NEAR(s.criteria.target_loss_ratio, 0.01, 0);
    CHECK_INT(isw_spec_set(&s, "data.generator", "spirals", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    CHECK_INT(s.data.classes, 3);
    CHECK_INT(isw_spec_set(&s, "data.generator", "teacher", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    CHECK_INT(s.data.classes, 0);  /* the spirals default did not stick */
    CHECK_INT(s.model.output, ISW_OUT_LINEAR);

    /* Name from the file name; an empty spec is refused. */
    isw_spec_t t;
    CHECK_INT(load(&t, NULL, "seed: 3\n", "dir/my-sweep.yaml", &err, 1), ISW_OK);
    CHECK_STR(t.name, "my-sweep");
    CHECK_INT(load(&t, NULL, "seed: 3\n", "other.yml", &err, 1), ISW_OK);
    CHECK_STR(t.name, "other");
    CHECK_INT(load(&t, NULL, "", "spec.yaml", &err, 0), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "empty");
}

static void test_full(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (load(&s, &sw, full_yaml, "sweeps/example.yaml", &err, 1) != ISW_OK) {
        CHECK(0);
        return;
    }
    CHECK_STR(s.name, "seed2-sigmoid-saturation");
    CHECK_INT(s.base_seed, 1);
    CHECK_INT(s.seed, 1);
    CHECK_INT(s.data.generator, ISW_GEN_BLOBS);
    CHECK_INT(s.data.samples, 500);
    CHECK_INT(s.data.inputs, 8);
    CHECK_INT(s.data.classes, 4);
    CHECK_NEAR(s.data.noise, 0.25, 0);
    CHECK_NEAR(s.data.normalize, 2, 0);
    CHECK_INT(s.model.nhidden, 1);
    CHECK_INT(s.model.hidden[0], 15);
    CHECK_INT(s.model.activation, ISW_ACT_SIGMOID);
    CHECK_INT(s.model.output, ISW_OUT_SIGMOID);
    CHECK_INT(s.model.loss, ISW_LOSS_MSE);
    CHECK_INT(s.model.output_set, 1);
    CHECK_INT(s.init.dist, ISW_DIST_UNIFORM_POSITIVE);
    CHECK_INT(s.init.bias, ISW_BIAS_SAME);
    CHECK_NEAR(s.train.lr, 0.5, 0);
    CHECK_INT(lr_layers_set(&s.train), 2);
    CHECK_NEAR(s.train.lr_layer[0], 1.0, 0);
    CHECK_NEAR(s.train.lr_layer[1], 0.5, 0);
    CHECK_NEAR(s.train.lr_layer[2], 1.0, 0);
    CHECK_INT(s.train.precision, ISW_PREC_DOUBLE);
    CHECK_INT(s.train.batch, 10);
    CHECK_INT(s.train.shuffle, 0);
    CHECK_NEAR(s.criteria.target_accuracy, 0.8, 0);
    CHECK_INT(s.criteria.target_default, 0);

    CHECK_INT(sw.naxes, 4);
    CHECK_STR(sw.axes[0].key, "init.dist");
    CHECK_INT(sw.axes[0].form, ISW_AXIS_LIST);
    CHECK_INT(sw.axes[0].n, 2);
    CHECK_INT(sw.axes[0].kind, ISW_VALUE_NAME);
    CHECK_INT(sw.axes[0].line, 35);
    CHECK_STR(axis_text(&sw.axes[0], 1), "uniform");
    CHECK_STR(sw.axes[1].key, "init.scale");
    CHECK_INT(sw.axes[1].n, 11);
    /* 0.125 .. 4 in 11 log steps: factor 32^(1/10); value 5 is sqrt(0.5). */
    CHECK_STR(axis_text(&sw.axes[1], 0), "0.125");
    CHECK_NEAR(atof(axis_text(&sw.axes[1], 5)), sqrt(0.5), 1e-12);
    CHECK_STR(axis_text(&sw.axes[1], 10), "4");
    CHECK_STR(sw.axes[3].key, "seed");
    CHECK_INT(sw.axes[3].form, ISW_AXIS_RANGE);
    CHECK_INT(sw.axes[3].n, 8);
    CHECK_STR(axis_text(&sw.axes[3], 7), "7");
    CHECK_INT(isw_sweep_find(&sw, "train.lr"), 2);
    CHECK_INT(isw_sweep_find(&sw, "train.momentum"), -1);
    CHECK_INT(sw.refine.enabled, 1);
    CHECK_STR(sw.refine.axis, "train.lr");
    CHECK_NEAR(sw.refine.tolerance, 0.02, 0);
    CHECK_INT(sw.refine.rounds, 7);
    isw_sweep_free(&sw);
    isw_sweep_free(&sw);  /* twice is harmless */
    isw_sweep_free(NULL);

    /* The idx form: loading does not read the files; 10 classes resolved. */
    CHECK_INT(load(&s, NULL, idx_yaml, "mnist.yaml", &err, 1), ISW_OK);
    CHECK_INT(s.data.kind, ISW_DATA_IDX);
    CHECK_STR(s.data.images, "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
    CHECK_STR(s.data.labels, "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
    CHECK_INT(s.data.limit, 10000);
    CHECK_NEAR(s.data.normalize, 255, 0);
    CHECK_INT(s.data.classes, 10);
    CHECK_NEAR(s.criteria.target_accuracy, 0.9, 0);
    CHECK_STR(s.name, "mnist");

    /* csv with a list of targets (regression) and a single named label. */
    CHECK_INT(load(&s, NULL,
                   "data: {kind: csv, path: d.csv, header: false, target: [y1, 3]}\n", "c.yaml",
                   &err, 1), ISW_OK);
    CHECK_INT(s.data.ntargets, 2);
    CHECK_STR(s.data.target[0], "y1");
    CHECK_STR(s.data.target[1], "3");
    CHECK_INT(s.data.header, 0);
    CHECK_INT(s.model.output, ISW_OUT_LINEAR);
    CHECK_INT(load(&s, NULL, "data: {kind: csv, path: d.csv, target: label, classes: 3}\n",
                   "c.yaml", &err, 1), ISW_OK);
    CHECK_INT(s.data.ntargets, 1);
    CHECK_STR(s.data.target[0], "label");
    CHECK_INT(s.model.output, ISW_OUT_SOFTMAX);
}

static void test_axes(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    const char *text =
        "sweep:\n"
        "  train.lr: {logspace: [1e-4, 10, 21]}\n"
        "  init.scale: {linspace: [0, 1, 5]}\n"
        "  train.epochs: {range: [10, 0, -3]}\n"
        "  model.hidden: [[16], [16, 16], []]\n"
        "  init.mean: [0.5, -1.0e-3]\n"
        "  data.noise: {linspace: [0.3, 0.3, 1]}\n"
        "  seed: {range: [2, 5]}\n"
        "  data.path: [\"a b.csv\", x.csv]\n";
    if (load(&s, &sw, text, "axes.yaml", &err, 1) != ISW_OK) {
        CHECK(0);
        return;
    }
    CHECK_INT(sw.naxes, 8);
    const isw_axis_t *lr = &sw.axes[0];
    CHECK_INT(lr->form, ISW_AXIS_LOGSPACE);
    CHECK_INT(lr->n, 21);
    CHECK_INT(lr->kind, ISW_VALUE_REAL);
    CHECK_STR(axis_text(lr, 0), "0.0001");
    isw_value_t v;
    isw_axis_value(lr, 0, &v);   /* the number the run gets: the text's, read once */
    CHECK(v.kind == ISW_VALUE_REAL && v.r == 0.0001);
    CHECK_STR(axis_text(lr, 4), "0.001");   /* 10^(-4 + 5*4/20) */
    CHECK_STR(axis_text(lr, 12), "0.1");
    CHECK_STR(axis_text(lr, 16), "1");
    CHECK_STR(axis_text(lr, 20), "10");
    CHECK_STR(axis_text(lr, 21), "");       /* out of range: empty */

    const isw_axis_t *sc = &sw.axes[1];
    CHECK_INT(sc->form, ISW_AXIS_LINSPACE);
    CHECK_STR(axis_text(sc, 0), "0");
    CHECK_STR(axis_text(sc, 1), "0.25");
    CHECK_STR(axis_text(sc, 3), "0.75");
    CHECK_STR(axis_text(sc, 4), "1");

    const isw_axis_t *ep = &sw.axes[2];
    CHECK_INT(ep->form, ISW_AXIS_RANGE);
    CHECK_INT(ep->n, 4);  /* 10, 7, 4, 1 */
    CHECK_STR(axis_text(ep, 0), "10");
    CHECK_STR(axis_text(ep, 3), "1");

    const isw_axis_t *hid = &sw.axes[3];
    CHECK_INT(hid->form, ISW_AXIS_LIST);
    CHECK_INT(hid->kind, ISW_VALUE_LIST);
    isw_axis_value(hid, 0, &v);
    CHECK(v.kind == ISW_VALUE_LIST && v.text && strcmp(v.text, "[16]") == 0);
    CHECK_STR(axis_text(hid, 0), "[16]");
    CHECK_STR(axis_text(hid, 1), "[16, 16]");
    CHECK_STR(axis_text(hid, 2), "[]");
    /* The text applies: a 2-hidden-layer model. */
    isw_spec_t t = s;
    CHECK_INT(isw_spec_set(&t, "model.hidden", axis_text(hid, 1), &err), ISW_OK);
    CHECK_INT(t.model.nhidden, 2);
    CHECK_INT(t.model.hidden[1], 16);

    CHECK_STR(axis_text(&sw.axes[4], 0), "0.5");
    CHECK_STR(axis_text(&sw.axes[4], 1), "-1.0e-3");  /* list values keep their text */
    CHECK_INT(sw.axes[4].kind, ISW_VALUE_REAL);
    isw_axis_value(&sw.axes[4], 1, &v);
    CHECK(v.r == -1.0e-3);
    CHECK_INT(sw.axes[5].n, 1);
    CHECK_STR(axis_text(&sw.axes[5], 0), "0.3");
    CHECK_INT(sw.axes[6].n, 3);
    CHECK_STR(axis_text(&sw.axes[6], 0), "2");
    CHECK_STR(axis_text(&sw.axes[7], 0), "\"a b.csv\"");  /* quoted: it holds a space */
    CHECK_INT(isw_spec_set(&t, "data.path", axis_text(&sw.axes[7], 0), &err), ISW_OK);
    CHECK_STR(t.data.path, "a b.csv");
    isw_sweep_free(&sw);

    /* Axis values are checked when the spec loads. */
    CHECK_CONTAINS(load_error("train:\n  lr: 1\nsweep:\n  train.lr: [0.1,\n     abc]\n"),
                   "spec.yaml:5: sweep.train.lr: found \"abc\", expected a positive number");
    CHECK_CONTAINS(load_error("sweep:\n  train.epochs: {logspace: [1, 100, 4]}\n"),
                   "spec.yaml:2: sweep.train.epochs: found \"4.64158883361\"");
    CHECK_CONTAINS(load_error("sweep:\n  train.epochs: {linspace: [1, 2, 3]}\n"),
                   "found \"1.5\", expected an integer >= 0");
}

static void test_lr_layer(void)
{
    isw_spec_t s;
    isw_error_t err;
    const char *text =
        "model: {hidden: [8, 8]}\n"
        "train:\n"
        "  lr_layer.1: 0.25\n";
    CHECK_INT(load(&s, NULL, text, "l.yaml", &err, 1), ISW_OK);
    CHECK_NEAR(s.train.lr_layer[0], 1.0, 0);
    CHECK_NEAR(s.train.lr_layer[1], 0.25, 0);
    CHECK_NEAR(s.train.lr_layer[2], 1.0, 0);
    CHECK_INT(s.train.lr_layer_keys, 2);
    CHECK_INT(s.train.lr_layer_list, 0);
    CHECK_INT(lr_layers_set(&s.train), 2);

    CHECK_INT(isw_spec_set(&s, "train.lr_layer.2", "4", &err), ISW_OK);
    CHECK_NEAR(s.train.lr_layer[2], 4.0, 0);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    CHECK_INT(lr_layers_set(&s.train), 3);
    /* Index 3 is past the 3 weight layers of hidden [8, 8]. */
    CHECK_INT(isw_spec_set(&s, "train.lr_layer.3", "1", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.lr_layer.3: layer 3 does not exist: the model has 3 weight");
    CHECK_INT(isw_spec_set(&s, "train.lr_layer.129", "1", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.lr_layer.129: layer index 129 out of range, expected 0..128");
    CHECK_INT(isw_spec_set(&s, "train.lr_layer.x", "1", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.lr_layer.x: unknown key");

    /* A list must match the depth. */
    CHECK_INT(load(&s, NULL, "model: {hidden: [8, 8]}\ntrain: {lr_layer: [1, 2, 3]}\n",
                   "l.yaml", &err, 1), ISW_OK);
    CHECK_INT(lr_layers_set(&s.train), 3);
    CHECK_NEAR(s.train.lr_layer[2], 3, 0);
    CHECK_INT(isw_spec_set(&s, "model.hidden", "[8]", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "x.yaml", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.lr_layer: found 3 multipliers, expected 2");

    /* A sweep can vary one layer's multiplier. */
    isw_sweep_t sw;
    CHECK_INT(load(&s, &sw, "sweep:\n  train.lr_layer.0: {logspace: [0.25, 4, 5]}\n", "l.yaml",
                   &err, 1), ISW_OK);
    CHECK_STR(sw.axes[0].key, "train.lr_layer.0");
    CHECK_STR(axis_text(&sw.axes[0], 1), "0.5");
    isw_sweep_free(&sw);
}

static void test_seed(void)
{
    isw_spec_t s;
    isw_error_t err;
    CHECK_INT(load(&s, NULL, "seed: 42\n", "s.yaml", &err, 1), ISW_OK);
    CHECK_INT(s.base_seed, 42);
    CHECK_INT(s.seed, 42);
    CHECK_INT(s.data.has_seed, 0);
    /* set and the seed axis change only the run seed. */
    CHECK_INT(isw_spec_set(&s, "seed", "7", &err), ISW_OK);
    CHECK_INT(s.base_seed, 42);
    CHECK_INT(s.seed, 7);
    CHECK_INT(isw_spec_set(&s, "seed", "-1", &err), ISW_EINVAL);
    CHECK_INT(isw_spec_set(&s, "seed", "18446744073709551615", &err), ISW_OK);
    CHECK(s.seed == UINT64_MAX);
    CHECK_INT(isw_spec_set(&s, "seed", "18446744073709551616", &err), ISW_EINVAL);
    /* data.seed */
    CHECK_INT(load(&s, NULL, "seed: 1\ndata: {seed: 99}\n", "s.yaml", &err, 1), ISW_OK);
    CHECK_INT(s.data.has_seed, 1);
    CHECK_INT(s.data.seed, 99);
    CHECK_INT(s.base_seed, 1);
    char buf[64];
    CHECK_INT(isw_spec_get(&s, "seed", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "1");
}

static void test_override(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (load(&s, &sw, full_yaml, "f.yaml", &err, 1) != ISW_OK) {
        CHECK(0);
        return;
    }
    CHECK_INT(isw_spec_override(&s, &sw, "train.lr=0.03", &err), ISW_OK);
    CHECK_NEAR(s.train.lr, 0.03, 0);
    CHECK_INT(isw_spec_override(&s, &sw, "model.hidden=[15, 7]", &err), ISW_OK);
    CHECK_INT(s.model.nhidden, 2);
    CHECK_INT(s.model.hidden[1], 7);
    CHECK_INT(isw_spec_override(&s, &sw, "train.lr_layer=[1, 1, 0.5]", &err), ISW_OK);
    CHECK_INT(isw_spec_override(&s, &sw, "init.dist=xavier_normal", &err), ISW_OK);
    CHECK_INT(s.init.dist, ISW_DIST_XAVIER_NORMAL);
    CHECK_INT(isw_spec_override(&s, &sw, " seed = 5", &err), ISW_OK);
    CHECK_INT(s.seed, 5);
    CHECK_INT(s.base_seed, 1);
    /* Replacing the target: an explicit target must be unset first. */
    CHECK_INT(isw_spec_override(&s, &sw, "criteria.target_loss=0.01", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "--set", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "at most one target");
    CHECK_INT(isw_spec_override(&s, &sw, "criteria.target_accuracy=null", &err), ISW_OK);
    CHECK_INT(isw_spec_validate(&s, "--set", &err), ISW_OK);
    CHECK_NEAR(s.criteria.target_loss, 0.01, 0);

    /* A sweep override replaces the axis in place; a new one is appended. */
    CHECK_INT(isw_spec_override(&s, &sw, "sweep.train.lr={logspace: [1e-3, 1, 7]}", &err),
              ISW_OK);
    CHECK_INT(sw.naxes, 4);
    CHECK_STR(sw.axes[2].key, "train.lr");
    CHECK_INT(sw.axes[2].n, 7);
    CHECK_STR(axis_text(&sw.axes[2], 0), "0.001");
    CHECK_STR(axis_text(&sw.axes[2], 2), "0.01");
    CHECK_STR(axis_text(&sw.axes[2], 6), "1");
    CHECK_INT(isw_spec_override(&s, &sw, "sweep.train.momentum=[0, 0.9]", &err), ISW_OK);
    CHECK_INT(sw.naxes, 5);
    CHECK_STR(axis_text(&sw.axes[4], 1), "0.9");
    CHECK_INT(isw_spec_override(&s, &sw, "refine.rounds=3", &err), ISW_OK);
    CHECK_INT(sw.refine.rounds, 3);

    /* Errors name --set and quote the assignment. */
    CHECK_INT(isw_spec_override(&s, &sw, "train.lr=abc", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err),
                   "--set: \"train.lr=abc\": train.lr: found \"abc\", expected a positive number");
    CHECK_INT(isw_spec_override(&s, &sw, "train.lr", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "--set: \"train.lr\": expected KEY=VALUE");
    CHECK_INT(isw_spec_override(&s, &sw, "train.lrr=1", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "train.lrr: unknown key (did you mean \"lr\"?)");
    CHECK_INT(isw_spec_override(&s, &sw, "sweep.train.lr={logspace: [0, 1, 7]}", &err),
              ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "sweep.train.lr: logspace: found a = 0");
    CHECK_INT(isw_spec_override(&s, &sw, "sweep.train.lr=[0.1, -1]", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "sweep.train.lr: found \"-1\", expected a positive number");
    CHECK_INT(isw_spec_override(&s, &sw, "model.hidden=[1, 2", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "not valid YAML");
    CHECK_INT(isw_spec_override(&s, &sw, "train.lr=", &err), ISW_EINVAL);
    CHECK_CONTAINS(err_line(&err), "found \"\", expected a positive number");
    CHECK_INT(isw_spec_override(&s, NULL, "sweep.train.lr=[1]", &err), ISW_EINVAL);
    /* The failed overrides left the values alone. */
    CHECK_NEAR(s.train.lr, 0.03, 0);
    CHECK_INT(sw.axes[2].n, 7);
    isw_sweep_free(&sw);
}

/* Writes s/sw, reads the text back, and checks the specs are identical. */
static void round_trip(const isw_spec_t *s, const isw_sweep_t *sw)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    CHECK_INT(isw_spec_write(f, s, sw), ISW_OK);
    fclose(f);
    isw_spec_t back;
    isw_sweep_t bsw;
    isw_error_t err;
    if (load(&back, &bsw, text, "written.yaml", &err, 1) != ISW_OK) {
        fprintf(stderr, "%s", text);
        CHECK(0);
        free(text);
        return;
    }
    if (!CHECK(memcmp(&back, s, sizeof back) == 0))
        fprintf(stderr, "%s", text);
    CHECK_INT(bsw.naxes, sw ? sw->naxes : 0);
    for (int a = 0; sw && a < sw->naxes && a < bsw.naxes; a++) {
        CHECK_STR(bsw.axes[a].key, sw->axes[a].key);
        CHECK_INT(bsw.axes[a].form, sw->axes[a].form);
        CHECK_INT(bsw.axes[a].n, sw->axes[a].n);
        CHECK_INT(bsw.axes[a].kind, sw->axes[a].kind);
        for (size_t i = 0; i < sw->axes[a].n; i++) {
            isw_axis_buf_t bx, by;
            CHECK_STR(isw_axis_text(&bsw.axes[a], i, &by), isw_axis_text(&sw->axes[a], i, &bx));
        }
    }
    CHECK_INT(bsw.refine.enabled, sw ? sw->refine.enabled : 0);
    if (sw) {
        CHECK_STR(bsw.refine.axis, sw->refine.axis);
        CHECK_NEAR(bsw.refine.tolerance, sw->refine.tolerance, 0);
        CHECK_INT(bsw.refine.rounds, sw->refine.rounds);
    }
    isw_sweep_free(&bsw);
    free(text);
}

static void test_round_trip(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    /* Defaults only (resolved output, loss, classes and target). */
    isw_spec_defaults(&s);
    CHECK_INT(isw_spec_validate(&s, "", &err), ISW_OK);
    round_trip(&s, NULL);

    if (load(&s, &sw, full_yaml, "f.yaml", &err, 1) == ISW_OK) {
        round_trip(&s, &sw);
        /* Overrides: a run seed, awkward doubles, strings that need quotes. */
        CHECK_INT(isw_spec_override(&s, &sw, "seed=12", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "train.lr=0.1", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "init.scale=0.30000000000000004", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "init.mean=-0.0", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "data.path='C: \"x\"\\y #1'", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "data.seed=5", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "criteria.target_accuracy=~", &err), ISW_OK);
        CHECK_INT(isw_spec_override(&s, &sw, "sweep.model.hidden=[[4, 4], [8]]", &err), ISW_OK);
        CHECK_INT(isw_spec_validate(&s, "--set", &err), ISW_OK);
        CHECK_INT(s.criteria.target_default, 1);
        CHECK_STR(s.data.path, "C: \"x\"\\y #1");
        round_trip(&s, &sw);
        isw_sweep_free(&sw);
    } else {
        CHECK(0);
    }

    const char *texts[] = {
        idx_yaml,
        "data: {kind: csv, path: d.csv, target: [a, b], header: false}\nmodel: {hidden: []}\n",
        "data: {generator: teacher, classes: 5, inputs: 3}\nmodel: {output: auto}\n"
        "train: {lr_layer: [2, 3], lr_layer.1: 0.5}\n",
        "model: {hidden: [4, 4, 4]}\ntrain: {lr_layer.2: 0.125}\n"
        "sweep:\n  train.lr: {linspace: [0.1, 0.7, 4]}\n  seed: {range: [7, 1, -2]}\n"
        "refine: {axis: train.lr}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (load(&s, &sw, texts[i], "t.yaml", &err, 1) != ISW_OK) {
            CHECK(0);
            continue;
        }
        round_trip(&s, &sw);
        isw_sweep_free(&sw);
    }
}

static void test_get(void)
{
    isw_spec_t s;
    isw_error_t err;
    char buf[128];
    if (load(&s, NULL, full_yaml, "f.yaml", &err, 1) != ISW_OK) {
        CHECK(0);
        return;
    }
    CHECK_INT(isw_spec_get(&s, "train.lr", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "0.5");
    CHECK_INT(isw_spec_set(&s, "train.lr", "0.1", &err), ISW_OK);
    CHECK_INT(isw_spec_get(&s, "train.lr", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "0.1");  /* %.15g reads back exactly */
    CHECK_INT(isw_spec_set(&s, "init.scale", "0.30000000000000004", &err), ISW_OK);
    CHECK_INT(isw_spec_get(&s, "init.scale", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "0.30000000000000004");  /* needs %.17g */
    CHECK_INT(isw_spec_get(&s, "init.dist", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "uniform_positive");
    CHECK_INT(isw_spec_get(&s, "init.bias", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "same");
    CHECK_INT(isw_spec_get(&s, "model.hidden", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "[15]");
    CHECK_INT(isw_spec_get(&s, "train.shuffle", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "false");
    CHECK_INT(isw_spec_get(&s, "train.lr_layer.1", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "0.5");
    CHECK_INT(isw_spec_get(&s, "train.lr_layer", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "[1, 0.5]");
    CHECK_INT(isw_spec_get(&s, "criteria.target_loss", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "");  /* unset */
    CHECK_INT(isw_spec_get(&s, "seed", buf, sizeof buf), ISW_OK);
    CHECK_STR(buf, "1");
    CHECK_INT(isw_spec_get(&s, "train.nope", buf, sizeof buf), ISW_EINVAL);
    CHECK_INT(isw_spec_get(&s, "model.activation", buf, 4), ISW_EINVAL);  /* too small */

    CHECK_STR(isw_act_name(ISW_ACT_LEAKY_RELU), "leaky_relu");
    CHECK_STR(isw_out_name(ISW_OUT_SOFTMAX), "softmax");
    CHECK_STR(isw_loss_name(ISW_LOSS_CROSS_ENTROPY), "cross_entropy");
    CHECK_STR(isw_dist_name(ISW_DIST_LECUN_UNIFORM), "lecun_uniform");
    CHECK_STR(isw_dist_name(ISW_DIST_ZERO), "zero");
    CHECK_STR(isw_generator_name(ISW_GEN_GAUSSIAN), "gaussian");
    CHECK_STR(isw_data_kind_name(ISW_DATA_CSV), "csv");
    CHECK_STR(isw_param_name(ISW_PARAM_MEAN_FIELD), "mean_field");
    CHECK_STR(isw_prec_name(ISW_PREC_DOUBLE), "double");
    /* Every distribution name parses back to its value. */
    for (int d = ISW_DIST_UNIFORM; d <= ISW_DIST_ZERO; d++) {
        CHECK_INT(isw_spec_set(&s, "init.dist", isw_dist_name((isw_dist_t)d), &err), ISW_OK);
        CHECK_INT(s.init.dist, d);
    }
}

static void test_errors(void)
{
    CHECK_CONTAINS(load_error("name: x\nmodel:\n  hidden: [4]\n  activation: sigmod\n"),
                   "spec.yaml:4: model.activation: found \"sigmod\", expected one of sigmoid, "
                   "tanh, relu, leaky_relu, linear (did you mean \"sigmoid\"?)");
    CHECK_CONTAINS(load_error("train:\n  epochs: 3\n  lr: fast\n"),
                   "spec.yaml:3: train.lr: found \"fast\", expected a positive number");
    CHECK_CONTAINS(load_error("train:\n  lr: -0.1\n"),
                   "spec.yaml:2: train.lr: found \"-0.1\", expected a positive number");
    CHECK_CONTAINS(load_error("train:\n  lr: .inf\n"), "train.lr: found \".inf\"");
    CHECK_CONTAINS(load_error("train:\n  epochs: 2.5\n"),
                   "spec.yaml:2: train.epochs: found \"2.5\", expected an integer >= 0");
    CHECK_CONTAINS(load_error("train:\n  shuffle: maybe\n"),
                   "train.shuffle: found \"maybe\", expected true or false");
    CHECK_CONTAINS(load_error("seed: 1\ntrian:\n  lr: 1\n"),
                   "spec.yaml:2: unknown top-level key \"trian\" (did you mean \"train\"?); "
                   "allowed: name, seed, data, model, init, train, criteria, sweep, refine");
    CHECK_CONTAINS(load_error("train:\n  lr: 1\n  momentun: 0.9\n"),
                   "spec.yaml:3: train.momentun: unknown key (did you mean \"momentum\"?); "
                   "allowed keys of train: lr, lr_layer, lr_layer.K, momentum");
    CHECK_CONTAINS(load_error("train:\n  lr: {a: 1}\n"),
                   "spec.yaml:2: train.lr: found a mapping {a: 1}, expected a positive number");
    CHECK_CONTAINS(load_error("model:\n  hidden: [4, x]\n"),
                   "spec.yaml:2: model.hidden: found \"x\", expected a list of at most 128 "
                   "integers >= 1");
    CHECK_CONTAINS(load_error("model: 3\n"), "spec.yaml:1: model: found \"3\", expected a mapping");
    CHECK_CONTAINS(load_error("train:\n  lr: 1\n  lr: 2\n"),
                   "spec.yaml:3: train.lr: duplicate key (first at line 2)");
    CHECK_CONTAINS(load_error("train:\n  lr: [1\n"), "spec.yaml:3:");
    CHECK_CONTAINS(load_error("train:\n  lr: [1\n"), "invalid YAML: did not find expected");
    CHECK_CONTAINS(load_error("a: b\n---\nc: d\n"), "unknown top-level key \"a\"");
    CHECK_CONTAINS(load_error("seed: 1\n---\nseed: 2\n"), "spec.yaml:3: found a second YAML");
    CHECK_CONTAINS(load_error("- 1\n- 2\n"), "spec.yaml:1: found a list [1, 2], expected a mapping");

    /* Cross-field checks name the key and its line. */
    CHECK_CONTAINS(load_error("criteria:\n  target_accuracy: 0.8\n  target_loss: 0.1\n"),
                   "spec.yaml:3: criteria.target_loss: at most one target may be given, found "
                   "criteria.target_accuracy (line 2) and criteria.target_loss");
    CHECK_CONTAINS(load_error("data:\n  generator: linear\nmodel:\n  output: softmax\n"),
                   "spec.yaml:4: model.output: softmax needs classification data with at least 2 "
                   "classes, but the spec has regression data (generator linear)");
    CHECK_CONTAINS(load_error("data: {generator: linear}\nmodel:\n  loss: cross_entropy\n"),
                   "spec.yaml:3: model.loss: cross_entropy needs a softmax or sigmoid output");
    CHECK_CONTAINS(load_error("data: {generator: gaussian}\ncriteria: {target_accuracy: 0.9}\n"),
                   "spec.yaml:2: criteria.target_accuracy: needs classification data");
    CHECK_CONTAINS(load_error("model: {hidden: [4]}\ntrain:\n  lr_layer: [1, 1, 1]\n"),
                   "spec.yaml:3: train.lr_layer: found 3 multipliers, expected 2");
    CHECK_CONTAINS(load_error("data:\n  kind: idx\n  images: a.gz\n"),
                   "data.labels: kind idx needs both data.images and data.labels");
    CHECK_CONTAINS(load_error("data:\n  kind: csv\n  path: a.csv\n"),
                   "spec.yaml:1: data.target: kind csv needs at least one target column");
    CHECK_CONTAINS(load_error("data: {generator: xor, classes: 3}\n"),
                   "data.classes: found 3, but generator xor has 2 classes");
    CHECK_CONTAINS(load_error("train: {momentum: 1}\n"),
                   "train.momentum: found \"1\", expected a number in [0, 1)");
    CHECK_CONTAINS(load_error("criteria: {patience: 0}\n"),
                   "criteria.patience: found \"0\", expected an integer >= 1");

    /* Sweep errors. */
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: []\n"),
                   "spec.yaml:2: sweep.train.lr: empty list, expected at least one value");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: {logspace: [0, 1, 5]}\n"),
                   "spec.yaml:2: sweep.train.lr: logspace: found a = 0, b = 1, expected end "
                   "values > 0");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: {linspaced: [0.1, 1, 5]}\n"),
                   "spec.yaml:2: sweep.train.lr: unknown axis form \"linspaced\" (did you mean "
                   "\"linspace\"?)");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: {linspace: [0.1, 1, 0]}\n"),
                   "sweep.train.lr: linspace: found n = 0, expected 1 <= n");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: {linspace: [0.1, 1]}\n"),
                   "sweep.train.lr: linspace: found a list [0.1, 1], expected [a, b, n]");
    CHECK_CONTAINS(load_error("sweep:\n  init.dist: {linspace: [0, 1, 3]}\n"),
                   "sweep.init.dist: linspace needs a numeric key");
    CHECK_CONTAINS(load_error("sweep:\n  seed: {range: [0, 8, 0]}\n"),
                   "spec.yaml:2: sweep.seed: range step is 0");
    CHECK_CONTAINS(load_error("sweep:\n  seed: {range: [5, 5]}\n"),
                   "sweep.seed: range [5, 5, 1] is empty");
    CHECK_CONTAINS(load_error("sweep:\n  seed: {range: [0, 2.5]}\n"),
                   "sweep.seed: range: found a list [0, 2.5], expected integers");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: [0.1]\n  init.scale: [1]\n  train.lr: [1]\n"),
                   "spec.yaml:4: sweep.train.lr: duplicate axis (first at line 2)");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr_layer.1: [1]\n  train.lr_layer.01: [2]\n"),
                   "spec.yaml:3: sweep.train.lr_layer.01: unknown key");
    CHECK_CONTAINS(load_error("sweep:\n  train.lrate: [0.1]\n"),
                   "spec.yaml:2: sweep.train.lrate: unknown key");
    CHECK_CONTAINS(load_error("sweep:\n  lr: [0.1]\n"),
                   "sweep.lr: unknown key (did you mean \"train.lr\"?)");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: 0.1\n"),
                   "sweep.train.lr: found \"0.1\", expected a list of values");
    CHECK_CONTAINS(load_error("sweep:\n  init.scale: [1]\nrefine:\n  axis: train.lr\n"),
                   "spec.yaml:4: refine.axis: train.lr is not a sweep axis");
    CHECK_CONTAINS(load_error("sweep:\n  init.scale: [1]\nrefine:\n  axis: init.scale\n"),
                   "refine.axis: found \"init.scale\", expected train.lr");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: [1]\nrefine:\n  round: 3\n"),
                   "spec.yaml:4: refine.round: unknown key (did you mean \"rounds\"?)");

    /* More than ISW_MAX_AXES axes. */
    char big[4096] = "sweep:\n";
    for (int k = 0; k <= ISW_MAX_AXES; k++) {
        char line[64];
        snprintf(line, sizeof line, "  train.lr_layer.%d: [1]\n", k);
        strcat(big, line);
    }
    CHECK_CONTAINS(load_error(big), "sweep.train.lr_layer.32: more than 32 axes");

    /* isw_spec_load on a missing file is an I/O error naming the path. */
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    CHECK_INT(isw_spec_load(&s, &sw, "/nonexistent/dir/spec.yaml", &err), ISW_EINVAL);
    CHECK_STR(err.file, "/nonexistent/dir/spec.yaml");
    CHECK_INT(sw.naxes, 0);
}

/* isw_spec_load reads the invalid-case files from the source tree the way
 * the CLI does: each case's expected_error must be in the message (cases
 * with an `args` file go through isw_spec_override after loading). */
/* Axis values that give the same run are refused: the copies would be
 * counted as independent samples (issue: n = 10 from 2 distinct runs). */
static void test_set_strict(void)
{
    isw_spec_t s;
    isw_error_t err;
    isw_spec_defaults(&s);
    CHECK_INT(isw_spec_override(&s, NULL, "train.epochs=5\n---\n7", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "found a second YAML document, expected one value");
    CHECK_INT(isw_spec_override(&s, NULL, "train.epochs=!!float 5", &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "found the tag tag:yaml.org,2002:float");
    char deep[400];
    snprintf(deep, sizeof deep, "model.hidden=%s", "");
    size_t off = strlen(deep);
    for (int i = 0; i < 70; i++)
        deep[off++] = '[';
    deep[off] = '\0';
    CHECK_INT(isw_spec_override(&s, NULL, deep, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "nested more than 64 deep");
}

static void test_axis_duplicates(void)
{
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: [0.1, 0.1]\n"),
                   "spec.yaml:2: sweep.train.lr: values #1 (0.1) and #2 (0.1) are the same value");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: [0.1, 0.2, 0.10, 1e-1]\n"),
                   "sweep.train.lr: values #1 (0.1) and #3 (0.10) are the same value");
    CHECK_CONTAINS(load_error("sweep:\n  train.lr: {logspace: [0.5, 0.5, 4]}\n"),
                   "sweep.train.lr: values #1 (0.5) and #2 (0.5)");
    /* distinct doubles, equal at the 12 digits runs.csv prints */
    CHECK_CONTAINS(load_error("sweep:\n  init.scale: {linspace: [1, 1.0000000000001, 3]}\n"),
                   "sweep.init.scale: values #1 (1) and #2 (1) are the same value");
    CHECK_CONTAINS(load_error("sweep:\n  train.shuffle: [yes, true]\n"),
                   "sweep.train.shuffle: values #1 (yes) and #2 (true) are the same value (true)");
    CHECK_CONTAINS(load_error("sweep:\n  model.hidden: [[16,16], [8], [16, 16]]\n"),
                   "sweep.model.hidden: values #1 ([16, 16]) and #3 ([16, 16])");
    CHECK_CONTAINS(load_error("sweep:\n  init.dist: [normal, uniform, normal]\n"),
                   "sweep.init.dist: values #1 (normal) and #3 (normal)");
    CHECK_CONTAINS(load_error("sweep:\n  seed: [3, 1, +3]\n"), "sweep.seed: values #1 (3) and #3 (+3)");
    /* near but distinct values stay */
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (CHECK(load(&s, &sw, "sweep:\n  train.lr: [0.1, 0.1000000000001]\n"
                            "  init.scale: {linspace: [1, 2, 1000]}\n", "d.yaml", &err, 1) == ISW_OK))
        isw_sweep_free(&sw);
}

/* Integer ranges stay integers: no trip through double (2^53 + 1 is not a
 * double), and bounds near 2^63 are exact. */
static void test_axis_range_integers(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (!CHECK(load(&s, &sw, "sweep:\n  seed: {range: [9007199254740993, 9007199254740999, 3]}\n",
                    "r.yaml", &err, 1) == ISW_OK))
        return;
    CHECK_INT(sw.axes[0].n, 2);
    CHECK_STR(axis_text(&sw.axes[0], 0), "9007199254740993");
    CHECK_STR(axis_text(&sw.axes[0], 1), "9007199254740996");
    isw_spec_t t = s;
    CHECK_INT(isw_spec_set(&t, "seed", axis_text(&sw.axes[0], 1), &err), ISW_OK);
    CHECK(t.seed == UINT64_C(9007199254740996));
    isw_sweep_free(&sw);
    if (!CHECK(load(&s, &sw, "sweep:\n  seed: {range: [9223372036854775806, 9223372036854775807]}\n"
                             "  init.mean: {range: [3, -9223372036854775807, -4611686018427387904]}\n",
                    "r.yaml", &err, 1) == ISW_OK))
        return;
    CHECK_STR(axis_text(&sw.axes[0], 0), "9223372036854775806");
    CHECK_INT(sw.axes[1].n, 3);
    CHECK_STR(axis_text(&sw.axes[1], 0), "3");
    CHECK_STR(axis_text(&sw.axes[1], 1), "-4611686018427387901");
    CHECK_STR(axis_text(&sw.axes[1], 2), "-9223372036854775805");
    /* the resolved spec writes the bounds exactly and reads back the same */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_INT(isw_spec_write(f, &s, &sw), ISW_OK);
    fclose(f);
    CHECK(strstr(text, "seed: {range: [9223372036854775806, 9223372036854775807, 1]}") != NULL);
    isw_sweep_free(&sw);
    free(text);
}

/* Axis values reach the run as the numbers the loader read: integers never
 * pass through double (2^53 + 1 and 2^64 - 1 stay exact), reals are the
 * text's nearest double, a range of a real key gives its integers. */
static void test_axis_typed(void)
{
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (!CHECK(load(&s, &sw,
                    "model: {hidden: [4]}\n"
                    "sweep:\n"
                    "  seed: [18446744073709551615, 9007199254740993]\n"
                    "  train.lr: {linspace: [0.1, 0.7, 4]}\n"
                    "  init.scale: {range: [1, 4]}\n"
                    "  criteria.target_loss: [null, 0.5]\n"
                    "  train.lr_layer.1: [0.25, 3]\n"
                    "  train.epochs: [7, 9007]\n",
                    "typed.yaml", &err, 1) == ISW_OK))
        return;
    CHECK_INT(sw.axes[0].kind, ISW_VALUE_INT);
    CHECK_INT(sw.axes[2].kind, ISW_VALUE_REAL);
    isw_grid_t g;
    CHECK_INT(isw_grid_init(&g, &sw, &err), ISW_OK);
    size_t idx[6] = {0, 2, 2, 0, 1, 1};
    isw_spec_t t;
    if (!CHECK(isw_grid_point_spec(&t, &g, &s, idx, NAN, &err) == ISW_OK)) {
        isw_error_print(stderr, &err);
        isw_sweep_free(&sw);
        return;
    }
    CHECK(t.seed == UINT64_MAX);
    CHECK(t.train.lr == strtod(axis_text(&sw.axes[1], 2), NULL));
    CHECK(t.init.scale == 3.0);
    CHECK(isnan(t.criteria.target_loss));
    CHECK(t.train.lr_layer[1] == 3.0);
    CHECK_INT(t.train.epochs, 9007);
    size_t idx2[6] = {1, 0, 0, 1, 0, 0};
    CHECK_INT(isw_grid_point_spec(&t, &g, &s, idx2, NAN, &err), ISW_OK);
    CHECK(t.seed == UINT64_C(9007199254740993));
    CHECK(t.criteria.target_loss == 0.5);
    CHECK(t.train.lr_layer[1] == 0.25);
    /* the typed setter keeps the key's range */
    isw_value_t bad = {ISW_VALUE_INT, -1, 0, NULL};
    CHECK_INT(isw_spec_set_value(&t, "train.epochs", &bad, &err), ISW_EINVAL);
    CHECK_CONTAINS(err.text, "train.epochs: found -1");
    isw_value_t neg = {ISW_VALUE_REAL, 0, -0.5, NULL};
    CHECK_INT(isw_spec_set_value(&t, "train.lr", &neg, &err), ISW_EINVAL);
    isw_sweep_free(&sw);
}

/* A list value of any length is kept whole: two hidden lists that agree on
 * their first 511 characters are two values. */
static void test_axis_long_values(void)
{
    char text[8192];
    size_t off = (size_t)snprintf(text, sizeof text, "sweep:\n  model.hidden: [[");
    for (int i = 0; i < 60; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "%s1000000", i ? ", " : "");
    off += (size_t)snprintf(text + off, sizeof text - off, ", 1], [");
    for (int i = 0; i < 60; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "%s1000000", i ? ", " : "");
    snprintf(text + off, sizeof text - off, ", 2]]\n");
    isw_spec_t s;
    isw_sweep_t sw;
    isw_error_t err;
    if (!CHECK(load(&s, &sw, text, "long.yaml", &err, 1) == ISW_OK))
        return;
    const char *a = axis_text(&sw.axes[0], 0);
    CHECK(strlen(a) > 511);
    CHECK_STR(a + strlen(a) - 4, ", 1]");
    const char *b = axis_text(&sw.axes[0], 1);
    CHECK_STR(b + strlen(b) - 4, ", 2]");
    isw_sweep_free(&sw);
}

static void test_invalid_cases(void)
{
    const char *src = getenv("ISW_SOURCE_DIR");
    if (!src) {
        fprintf(stderr, "ISW_SOURCE_DIR unset: skipping the invalid-case check\n");
        return;
    }
    char listcmd[1200];
    snprintf(listcmd, sizeof listcmd, "ls %s/tests/specs/invalid", src);
    FILE *ls = popen(listcmd, "r");
    if (!CHECK(ls != NULL))
        return;
    char name[256];
    int ncases = 0;
    while (fgets(name, sizeof name, ls)) {
        name[strcspn(name, "\n")] = '\0';
        char dir[1600], path[1700], expected[1024] = "";
        snprintf(dir, sizeof dir, "%s/tests/specs/invalid/%s", src, name);
        /* a case about the command line, not the spec, is the CLI's alone */
        snprintf(path, sizeof path, "%s/cli_only", dir);
        if (access(path, F_OK) == 0)
            continue;
        snprintf(path, sizeof path, "%s/expected_error", dir);
        FILE *f = fopen(path, "r");
        if (!CHECK(f != NULL))
            continue;
        if (!fgets(expected, sizeof expected, f))
            expected[0] = '\0';
        fclose(f);
        expected[strcspn(expected, "\n")] = '\0';

        isw_spec_t s;
        isw_sweep_t sw;
        isw_error_t err;
        snprintf(path, sizeof path, "%s/spec.yaml", dir);
        int st = isw_spec_load(&s, &sw, path, &err);
        snprintf(path, sizeof path, "%s/args", dir);
        f = fopen(path, "r");
        if (f && st == ISW_OK) {
            char word[512];
            int set = 0;
            while (st == ISW_OK && fgets(word, sizeof word, f)) {
                word[strcspn(word, "\n")] = '\0';
                if (strcmp(word, "--set") == 0)
                    set = 1;
                else if (set) {
                    st = isw_spec_override(&s, &sw, word, &err);
                    set = 0;
                }
            }
            if (st == ISW_OK)
                st = isw_spec_validate(&s, "--set", &err);
        }
        if (f)
            fclose(f);
        if (st == ISW_OK) {
            /* combinations of axis values are the grid's check */
            isw_grid_t g;
            st = isw_grid_init(&g, &sw, &err);
            if (st == ISW_OK)
                st = isw_grid_validate(&g, &s, &err);
            if (st != ISW_OK && err.file[0] == '\0') {
                snprintf(err.file, sizeof err.file, "%s/spec.yaml", dir);
            }
            if (st != ISW_OK)
                isw_sweep_free(&sw);
        }
        if (!CHECK(st != ISW_OK)) {
            fprintf(stderr, "  case %s loaded without error\n", name);
        } else if (!CHECK_CONTAINS(err_line(&err), expected)) {
            fprintf(stderr, "  case %s\n", name);
        }
        isw_sweep_free(&sw);
        ncases++;
    }
    pclose(ls);
    CHECK(ncases >= 15);
}

int main(void)
{
    test_defaults();
    test_full();
    test_axes();
    test_lr_layer();
    test_seed();
    test_override();
    test_round_trip();
    test_get();
    test_errors();
    test_axis_duplicates();
    test_set_strict();
    test_axis_range_integers();
    test_axis_long_values();
    test_axis_typed();
    test_invalid_cases();
    return CHECK_DONE();
}
