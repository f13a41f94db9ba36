"""A small from-scratch CNN baseline on log-mel patches."""
from __future__ import annotations

import torch
from torch import nn

from ..features import LogMel


class ScratchCNN(nn.Module):
    """conv-BN-ReLU-pool blocks, then global max+mean pooling over time: logits, no softmax."""

    def __init__(self, n_labels: int, channels: tuple[int, ...] = (32, 64, 128, 128), dropout: float = 0.3,
                 features: dict | None = None):
        super().__init__()
        self.frontend = LogMel(features) if features else nn.Identity()  # waveforms, else log-mel patches
        self.input_bn = nn.BatchNorm2d(1)
        layers, c_in = [], 1
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c_out
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * c_in, n_labels))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.blocks(self.input_bn(self.frontend(x).unsqueeze(1)))   # (B, C, T', F')
        x = x.mean(dim=3)                                   # average over frequency
        embedding = torch.cat([x.amax(dim=2), x.mean(dim=2)], dim=1)
        return {"logits": self.head(embedding), "embedding": embedding}
