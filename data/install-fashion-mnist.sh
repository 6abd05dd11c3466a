#!/bin/sh
# Installs Fashion-MNIST (Debian package dataset-fashion-mnist, MIT licence,
# Zalando Research) when it is missing and prints the paths a spec uses.
# Needs root (or sudo) only when the package is not installed yet.
set -eu

dir=/usr/share/datasets/fashion-mnist
pkg=dataset-fashion-mnist

if [ ! -f "$dir/train-images-idx3-ubyte.gz" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-fashion-mnist.sh: apt-get not found; get the four files from" >&2
        echo "  https://github.com/zalandoresearch/fashion-mnist (data/fashion) and" >&2
        echo "  point data.images / data.labels at them" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    fi
    echo "installing $pkg ..."
    $sudo apt-get update
    $sudo apt-get install -y "$pkg"
fi

for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz \
         t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [ ! -f "$dir/$f" ]; then
        echo "install-fashion-mnist.sh: $dir/$f missing after installing $pkg" >&2
        exit 1
    fi
done

cat <<MSG
Fashion-MNIST (MIT licence, Zalando Research) is in $dir:
  training images  $dir/train-images-idx3-ubyte.gz   (60000 x 28 x 28)
  training labels  $dir/train-labels-idx1-ubyte.gz
  test images      $dir/t10k-images-idx3-ubyte.gz    (10000 x 28 x 28)
  test labels      $dir/t10k-labels-idx1-ubyte.gz
In a spec:
  data: {kind: idx, images: $dir/train-images-idx3-ubyte.gz,
         labels: $dir/train-labels-idx1-ubyte.gz, limit: 10000, normalize: 255}

The original MNIST digits use the same IDX format (plain or .gz) and are not
packaged by Debian: download train-images-idx3-ubyte.gz and
train-labels-idx1-ubyte.gz from a mirror you trust and pass
  --set data.images=/path/to/train-images-idx3-ubyte.gz
  --set data.labels=/path/to/train-labels-idx1-ubyte.gz
MSG
