"""Sanitized runs: scripts/sanitize sets PIPELINE_TEST_LIGHT=1, where training is 15-25 times slower (every load
of the vector kernels is checked). The end-to-end scripts that check behaviour rather than learning (resuming,
the progress bar, file formats) then train the quick config on fewer images; the release suite runs them in full."""
import os

LIGHT = os.environ.get("PIPELINE_TEST_LIGHT") == "1"
# Images of each split the quick configs read (their own limit is 2,000).
QUICK_IMAGES = 500 if LIGHT else 2000


def quick_limits():
    """--set arguments limiting configs/lenet_mnist_quick.yaml's readers to QUICK_IMAGES each."""
    return ["--set", f"train_data.limit={QUICK_IMAGES}", "--set", f"test_data.limit={QUICK_IMAGES}"]
