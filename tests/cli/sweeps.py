"""Small sweep specs shared by the command-level tests."""

# Runs of very different lengths: high learning rates diverge within an
# epoch, low ones run all epochs, early stopping ends some in between.
MIXED = """\
name: mixed
seed: 11
data:
  kind: synthetic
  generator: blobs
  samples: %(samples)d
  classes: 3
  noise: 1.0
  inputs: 4
model:
  hidden: [16]
  activation: relu
init:
  dist: normal
  scale: 1.0
train:
  lr: 0.1
  epochs: %(epochs)d
  batch: 16
criteria:
  target_accuracy: %(target)g
sweep:
  init.dist: [normal, uniform]
  init.scale: {logspace: [0.25, 4, 3]}
  train.lr: {logspace: [0.001, 100, 9]}
  seed: {range: [0, 3]}
"""
