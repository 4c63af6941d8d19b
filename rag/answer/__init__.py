"""The answer side, in the order a question travels: question → evidence → compose (extractive)
or context (for a model) → verify → chain, which runs them."""
from .chain import Answerer, ChainConfig, Turn

__all__ = ["Answerer", "ChainConfig", "Turn"]
