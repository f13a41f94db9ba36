"""The tag-prior head: genre weights start from the backbone's own tag layer."""
import pytest
import torch
import yaml

from ml import train
from ml.models import MusiCNNGenre

CFG = yaml.safe_load(open(train.__file__.replace("train.py", "config/musicnn_head.yaml")))
LABELS = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


def msd_tags() -> list[str]:
    configuration = pytest.importorskip("musicnn.configuration", reason="musicnn package holds the MSD tag list")
    return list(configuration.MSD_LABELS)


def test_prior_rows_are_mean_tag_rows_on_penultimate_and_zero_on_pooled():
    tags = msd_tags()
    mapping = CFG["head_priors"]["msd_tags"]
    model = MusiCNNGenre(n_labels=len(LABELS), n_tags=len(tags))
    prior = model.tag_prior(LABELS, tags, mapping)
    rows = model.backbone.tag_dense.weight.detach()
    dense = rows.shape[1]
    country = rows[[tags.index("country"), tags.index("folk")]].mean(dim=0)
    assert torch.allclose(prior[LABELS.index("country"), :dense], country)
    assert torch.equal(prior[:, dense:], torch.zeros(len(LABELS), model.feature_dim - dense))
    assert torch.equal(prior[LABELS.index("reggae")], torch.zeros(model.feature_dim))  # no MSD reggae tag


def test_prior_head_ranks_genres_by_their_tags():
    tags = ["t0", "t1", "t2", "t3"]
    model = MusiCNNGenre(n_labels=3, n_tags=len(tags))
    with torch.no_grad():  # orthogonal tag rows: tag k fires on penultimate unit k only
        model.backbone.tag_dense.weight.copy_(torch.eye(len(tags), 200))
    prior = model.tag_prior(["a", "b", "c"], tags, {"a": ["t0", "t1"], "b": ["t2"], "c": []})
    x = torch.zeros(model.feature_dim)
    x[2], x[0] = 1.0, 0.5        # strongly t2, a little t0; the pooled part is ignored
    x[200:] = torch.randn(model.feature_dim - 200)
    assert (prior @ x).tolist() == [0.25, 1.0, 0.0]


def test_prior_rejects_names_outside_labels_or_tags():
    model = MusiCNNGenre(n_labels=2, n_tags=2)
    with pytest.raises(ValueError, match="unknown"):
        model.tag_prior(["a", "b"], ["t0", "t1"], {"a": ["nope"]})
    with pytest.raises(ValueError, match="unknown"):
        model.tag_prior(["a", "b"], ["t0", "t1"], {"z": ["t0"]})
