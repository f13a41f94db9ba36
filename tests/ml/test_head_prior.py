"""The tag-prior head: genre weights start from the taggers' own tag layers."""
import pytest
import torch
import yaml

from ml import train
from ml.models import MusiCNNGenre

CFG = yaml.safe_load(open(train.__file__.replace("train.py", "config/musicnn_head.yaml")))
LABELS = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
TAGGERS = CFG["architecture"]["params"]["taggers"]


def shipped_tags() -> dict[str, list[str]]:
    pytest.importorskip("musicnn.configuration", reason="musicnn package holds the tag lists")
    return {name: train.checkpoint_tags(name) for name in TAGGERS}


def test_prior_rows_are_mean_tag_rows_on_each_penultimate_and_zero_on_pooled():
    tags = shipped_tags()
    model = MusiCNNGenre(n_labels=len(LABELS), taggers=TAGGERS)
    prior = model.tag_prior(LABELS, tags, CFG["head_priors"]["tags"])
    msd, mtt = (net.tag_dense.weight.detach() for net in model.taggers().values())
    dense, width = msd.shape[1], model.tagger_dim
    msd_country = msd[[tags["MSD_musicnn"].index("country"), tags["MSD_musicnn"].index("folk")]].mean(dim=0)
    mtt_country = mtt[tags["MTT_musicnn"].index("country")]
    country = prior[LABELS.index("country")]
    assert torch.allclose(country[:dense], msd_country)
    assert torch.allclose(country[width:width + dense], mtt_country)
    for k in range(len(TAGGERS)):  # the pooled mid-end features start at zero
        assert not prior[:, k * width + dense:(k + 1) * width].any()
    assert not prior[LABELS.index("reggae")].any()  # neither tagger has a reggae tag
    jazz = prior[LABELS.index("jazz")]
    assert jazz[:dense].any() and not jazz[width:].any()  # MSD has jazz, MTT has not


def test_prior_head_ranks_genres_by_their_tags():
    tags = ["t0", "t1", "t2", "t3"]
    model = MusiCNNGenre(n_labels=3, n_tags=len(tags), taggers=["A"])
    with torch.no_grad():  # orthogonal tag rows: tag k fires on penultimate unit k only
        model.backbone.tag_dense.weight.copy_(torch.eye(len(tags), 200))
    prior = model.tag_prior(["a", "b", "c"], {"A": tags}, {"A": {"a": ["t0", "t1"], "b": ["t2"], "c": []}})
    x = torch.zeros(model.feature_dim)
    x[2], x[0] = 1.0, 0.5        # strongly t2, a little t0; the pooled part is ignored
    x[200:] = torch.randn(model.feature_dim - 200)
    assert (prior @ x).tolist() == [0.25, 1.0, 0.0]


def test_two_taggers_vote_together():
    tags = ["t0", "t1"]
    model = MusiCNNGenre(n_labels=2, n_tags=len(tags), taggers=["A", "B"])
    with torch.no_grad():
        for net in model.taggers().values():
            net.tag_dense.weight.copy_(torch.eye(len(tags), 200))
    prior = model.tag_prior(["a", "b"], {"A": tags, "B": tags}, {"A": {"a": ["t0"]}, "B": {"a": ["t1"], "b": ["t1"]}})
    x = torch.zeros(model.feature_dim)
    x[0] = 1.0                      # tagger A hears t0
    x[model.tagger_dim + 1] = 2.0   # tagger B hears t1
    assert (prior @ x).tolist() == [3.0, 2.0]


def test_prior_rejects_names_outside_labels_tags_or_taggers():
    model = MusiCNNGenre(n_labels=2, n_tags=2, taggers=["A"])
    with pytest.raises(ValueError, match="unknown"):
        model.tag_prior(["a", "b"], {"A": ["t0", "t1"]}, {"A": {"a": ["nope"]}})
    with pytest.raises(ValueError, match="unknown"):
        model.tag_prior(["a", "b"], {"A": ["t0", "t1"]}, {"A": {"z": ["t0"]}})
    with pytest.raises(ValueError, match="unknown taggers"):
        model.tag_prior(["a", "b"], {"A": ["t0", "t1"]}, {"B": {"a": ["t0"]}})
