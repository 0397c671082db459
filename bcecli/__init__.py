"""bcecli: binary and multi-class cross-entropy, exactly as PyTorch computes them."""

__version__ = "1.0.0"
