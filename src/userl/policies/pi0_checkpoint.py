"""pi0's weights written in the LeRobot / openpi checkpoint layout, the one `policy.weights=DIR`
reads: safetensors under the published key names (openpi's PyTorch `PI0Pytorch` under
`model.`: `paligemma_with_expert.paligemma` a PaliGemmaForConditionalGeneration whose tied
token embedding is saved as its `lm_head`, `paligemma_with_expert.gemma_expert` a
GemmaForCausalLM, the action/time projections at the top).

The folder is sharded as the Hugging Face hub shards (`model-0000i-of-0000n.safetensors`
and `model.safetensors.index.json`), one shard written at a time, so that writing a
3.5B-parameter model holds at most one shard's bytes beside the model itself (safetensors
copies the tensors it writes into one buffer per file).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

VLM, EXPERT = "model.vlm.", "model.dit."
PUBLISHED_VLM = "model.paligemma_with_expert.paligemma."
PUBLISHED_EXPERT = "model.paligemma_with_expert.gemma_expert."
TIED_EMBEDDINGS = {  # saved as each language model's lm_head (tied to its token embedding)
    VLM + "language_model.embed_tokens.weight": PUBLISHED_VLM + "lm_head.weight",
    EXPERT + "embed_tokens.weight": PUBLISHED_EXPERT + "lm_head.weight",
}
PROJECTIONS = "embed_action_time."  # the library groups them; the layout has them at the top
INDEX_FILE = "model.safetensors.index.json"


def published_key(name: str) -> str:
    """The published (LeRobot / openpi) key of `PI0ForConditionalGeneration`'s tensor `name`."""
    if name in TIED_EMBEDDINGS:
        return TIED_EMBEDDINGS[name]
    if name.startswith(VLM):
        return PUBLISHED_VLM + "model." + name[len(VLM) :]
    if name.startswith(EXPERT):
        return PUBLISHED_EXPERT + "model." + name[len(EXPERT) :]
    if name.startswith(PROJECTIONS):
        return "model." + name[len(PROJECTIONS) :]
    return "model." + name  # action_out_proj


def shard_groups(sizes: dict[str, int], shard_bytes: int) -> list[list[str]]:
    """The names in order, cut into consecutive groups of at most `shard_bytes` each (a
    tensor larger than that is a group of its own)."""
    groups: list[list[str]] = [[]]
    filled = 0
    for name, size in sizes.items():
        if groups[-1] and filled + size > shard_bytes:
            groups.append([])
            filled = 0
        groups[-1].append(name)
        filled += size
    return groups


def save_published(model: torch.nn.Module, folder: Path, shard_bytes: int) -> list[Path]:
    """Write `model`'s (a PI0ForConditionalGeneration) state to `folder` in the published
    layout, in shards of at most `shard_bytes` (plus the index); returns the shard files."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    sizes = {name: t.numel() * t.element_size() for name, t in state.items()}
    groups = shard_groups(sizes, shard_bytes)
    files, weight_map = [], {}
    for number, names in enumerate(groups, start=1):
        path = folder / f"model-{number:05d}-of-{len(groups):05d}.safetensors"
        save_file(
            {published_key(n): state[n].detach().contiguous() for n in names},
            str(path),
            metadata={"format": "pt"},
        )
        weight_map.update({published_key(n): path.name for n in names})
        files.append(path)
    index = {"metadata": {"total_size": sum(sizes.values())}, "weight_map": weight_map}
    (folder / INDEX_FILE).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return files
