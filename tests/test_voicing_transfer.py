"""mirbook.evaluate.voicing_transfer: a voice detector in two worlds, checked by hand and with mir_eval."""

import mir_eval
import numpy as np
import pytest

from mirbook.evaluate import voicing_transfer

SR, HOP = 22050, 2205  # 0.1 s per frame: frame i is centred at i / 10 s
VOICE = np.array([[0.0, 0.45]])  # frames 0-4 sung
LEAD = np.array([[0.55, 0.95]])  # frames 6-9: only the melody instrument
P_OWN = np.array([0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1])  # voiced: 0, 1, 2 and 6
P_OTHER = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9])  # voiced: 0 and 6-9
# validation songs whose best threshold (the lowest with the best frame accuracy) is 0.1
VALID = {"references": [VOICE], "probabilities": [np.r_[np.full(5, 0.9), np.full(5, 0.1)]], "leads": [None]}


def _row(accuracy):
    return {"Frame Accuracy": accuracy, "Voicing Recall": 0.5, "Voicing False Alarm": 0.25}


def _worlds():
    return {"in the world": {"valid": VALID,
                             "test": {"references": [VOICE], "probabilities": [P_OWN], "leads": [LEAD]},
                             "baselines": {"energy on the mix": _row(0.6), "every frame voiced": _row(0.5)}},
            "out of the world": {"valid": VALID,
                                 "test": {"references": [VOICE, VOICE], "probabilities": [P_OTHER, P_OWN],
                                          "leads": [LEAD, None], "styles": ["choir", "sung top part"]},
                                 "baselines": {"energy on the mix": _row(0.5), "every frame voiced": _row(0.4)}}}


def _transfer(worlds, **kwargs):
    return voicing_transfer("net", worlds, sample_rate=SR, hop_length=HOP, median_filters=(1,), **kwargs)


def test_voicing_transfer_scores_both_worlds_by_hand_and_as_mir_eval():
    text, scores = _transfer(_worlds())
    own, other = scores["in the world"], scores["out of the world"]
    assert (own["threshold"], own["median_filter"]) == (pytest.approx(0.1), 1)
    # by hand, own world: 7 of 10 frames right (3 and 4 missed, 6 a false alarm)
    assert own["network"]["Frame Accuracy"] == pytest.approx(0.7)
    assert own["kinds"] == pytest.approx({"voice only": 2 / 5, "lead only": 1 / 4, "both": np.nan,
                                          "neither voice nor lead": 0.0}, nan_ok=True)
    assert own["valid"]["network"]["Frame Accuracy"] == pytest.approx(1.0)
    # the other world's first song: 2 of 10 right; with the second (7 of 10): 9 of 20
    assert other["network"]["Frame Accuracy"] == pytest.approx(0.45)
    assert other["styles"] == pytest.approx({"choir": 0.2, "sung top part": 0.7})
    # frames with neither: frame 5 of song 1, frames 5-9 of song 2 (no lead), of which 6 is voiced
    assert other["kinds"]["neither voice nor lead"] == pytest.approx(1 / 6)
    assert other["kinds"]["lead only"] == pytest.approx(4 / 4)  # the second song has no lead
    ref = np.tile((np.arange(10) < 5).astype(float), 2)
    recall, false_alarm = mir_eval.melody.voicing_measures(ref, (np.r_[P_OTHER, P_OWN] > 0.5).astype(float))
    assert other["network"]["Voicing Recall"] == pytest.approx(recall)  # 4 / 10
    assert other["network"]["Voicing False Alarm"] == pytest.approx(false_alarm)  # 5 / 10
    settings, table, kinds, sentence = text.split("\n\n")
    assert "in the world, threshold 0.10 and a median filter of 1 frames" in settings
    assert table.splitlines()[0] == ("| detector | frame accuracy, in the world | frame accuracy, out of the world "
                                     "| voicing recall, in the world | voicing recall, out of the world "
                                     "| voicing false alarm, in the world | voicing false alarm, out of the world |")
    assert "| net | 0.700 | 0.450 | 0.600 | 0.400 | 0.200 | 0.500 |" in table
    assert "| energy on the mix | 0.600 | 0.500 | 0.500 | 0.500 | 0.250 | 0.250 |" in table
    assert "| lead only frames (false alarms) | 0.250 | 1.000 |" in kinds
    assert "| both frames (missed) | - | - |" in kinds
    assert "| songs arranged as: choir (1 - frame accuracy) | - | 0.800 |" in kinds
    assert "+0.100 in the world and -0.050 out of the world" in sentence
    assert ("what transfers: nothing; what does not: frame accuracy (0.700 -> 0.450); voicing recall "
            "(0.600 -> 0.400); false alarms where only the lead plays (0.250 -> 1.000); false alarms where "
            "neither voice nor lead plays (0.000 -> 0.167).") in sentence
    assert "aim" not in sentence


def test_voicing_transfer_tolerance_and_aims():
    text, _ = _transfer(_worlds(), tolerance=0.3, aims=(0.4, 0.99))
    # worse by 0.25 (frame accuracy), 0.2 (recall), 0.167 (neither): within; 0.75 (lead only): not
    assert "what transfers: frame accuracy (0.700 -> 0.450); voicing recall (0.600 -> 0.400); false" in text
    assert "what does not: false alarms where only the lead plays (0.250 -> 1.000)." in text
    # validation: all 10 frames right, no lead frames; test: 0.45 >= 0.4 but 1.0 > 0.99 lead-only false alarms
    assert ("aim out of the world is a frame accuracy of at least 0.40 with false alarms on at most 0.99 of the "
            "frames where only the lead plays: validation songs 1.000 and - (met); test songs 0.450 and 1.000 "
            "(not met).") in text
    with pytest.raises(ValueError, match="two worlds"):
        _transfer({"in the world": _worlds()["in the world"]})


def test_voicing_transfer_chooses_each_worlds_settings_on_its_own_validation_songs():
    worlds = _worlds()
    # validation songs without voice whose probabilities are all 0.9: the best threshold is 0.9
    worlds["out of the world"]["valid"] = {"references": [np.zeros((0, 2))], "probabilities": [np.full(10, 0.9)],
                                           "leads": [None]}
    _, scores = _transfer(worlds)
    assert scores["out of the world"]["threshold"] == pytest.approx(0.9)
    # at 0.9 no test frame is voiced: the 10 unsung frames of 20 are right
    assert scores["out of the world"]["network"]["Frame Accuracy"] == pytest.approx(0.5)
    assert scores["out of the world"]["network"]["Voicing Recall"] == 0.0
    assert scores["in the world"]["network"]["Frame Accuracy"] == pytest.approx(0.7)
