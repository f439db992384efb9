"""Tokenizers for a vision-language-action policy's instruction.

`byte_tokenizer()` is the project's own: built in memory with `tokenizers` (no download),
one token per UTF-8 byte plus the special tokens the pi0 prompt uses. A directory path
loads a local Hugging Face tokenizer instead (e.g. PaliGemma's, beside pi0 weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from userl.core.errors import ConfigError

PAD, BOS, EOS, IMAGE = "<pad>", "<bos>", "<eos>", "<image>"
SPECIAL_TOKENS = (PAD, BOS, EOS, IMAGE)  # ids 0..3, then the 256 bytes


def byte_tokenizer() -> Any:
    """A byte-level tokenizer: ids 0-3 are <pad> <bos> <eos> <image>, then one id per byte."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()  # the 256 byte symbols
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    vocab |= {symbol: len(SPECIAL_TOKENS) + index for index, symbol in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        extra_special_tokens={"image_token": IMAGE},
    )


def load_tokenizer(source: str) -> Any:
    """`""`: the byte tokenizer; a directory: the Hugging Face tokenizer saved there."""
    if not source:
        return byte_tokenizer()
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise ConfigError(
            f"policy.tokenizer={source}: no such folder; give the local folder "
            "of a saved tokenizer (e.g. PaliGemma's), or leave it empty for the "
            "built-in byte tokenizer"
        )
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"policy.tokenizer={source}: no tokenizer could be loaded from it "
            f"({type(error).__name__}); save one there with "
            "tokenizer.save_pretrained(DIR)"
        ) from None
    if IMAGE not in tokenizer.get_vocab():  # as PI0Processor does for a tokenizer without it
        tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE]})
    return tokenizer
