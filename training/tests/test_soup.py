import os
import tempfile
import unittest

import torch

from ferkit_train.export import Member, soup_record, training_record
from ferkit_train.models import build
from ferkit_train.soup import average_state_dicts, soup_checkpoint


def member(model: torch.nn.Module, path: str, command_args: dict, epoch: int, lineage=None) -> Member:
    ck = {
        "model": model.state_dict(),
        "config": {"arch": "resnet", "widths": "8,16"},
        "args": command_args,
        "state": {"epoch": epoch, "step": 10 * epoch, "elapsed": 1.0, "log": []},
        "lineage": lineage or [],
    }
    return Member(model.eval(), ck, False, path)


class AverageTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.a = build("resnet", widths="8,16", depths="1,1", stem_width=8)
        self.b = build("resnet", widths="8,16", depths="1,1", stem_width=8)

    def test_floats_are_averaged_and_step_counters_kept(self):
        sa, sb = self.a.state_dict(), self.b.state_dict()
        sb = {k: (v + 1 if v.is_floating_point() else v + 5) for k, v in sb.items()}
        out = average_state_dicts([sa, sb])
        for k, v in sa.items():
            if v.is_floating_point():
                torch.testing.assert_close(out[k], (v + sb[k]) / 2)
            else:
                self.assertTrue(torch.equal(out[k], v), k)  # num_batches_tracked: the first's

    def test_a_soup_of_one_network_twice_is_that_network(self):
        sd = average_state_dicts([self.a.state_dict(), self.a.state_dict()])
        self.b.load_state_dict(sd)
        x = torch.rand(3, 1, 48, 48) * 255
        with torch.no_grad():
            torch.testing.assert_close(self.b.eval()(x), self.a.eval()(x))

    def test_different_architectures_are_refused(self):
        wider = build("resnet", widths="8,32", depths="1,1", stem_width=8)
        with self.assertRaises(ValueError):
            average_state_dicts([self.a.state_dict(), wider.state_dict()])


class RecordTest(unittest.TestCase):
    def test_each_run_is_named_once_with_its_full_length(self):
        torch.manual_seed(0)
        net = build("resnet", widths="8,16", depths="1,1", stem_width=8)
        parent = {"command": "python3 -m ferkit_train.train --seed 1", "epochs": 60, "checkpoint": "p/last.pt"}
        # two siblings warm-started from one parent, and the parent itself (its best epoch, 59)
        sib1 = member(net, "s1/best.pt", {"seed": 2}, 31, [{"args": {"seed": 1}, "epochs": 60, "checkpoint": "p/last.pt"}])
        sib2 = member(net, "s2/last.pt", {"seed": 3}, 14, [{"args": {"seed": 1}, "epochs": 60, "checkpoint": "p/last.pt"}])
        par = member(net, "p/best.pt", {"seed": 1}, 59)
        ck = soup_checkpoint([sib1, sib2, par], "python3 -m ferkit_train.soup ...")
        self.assertEqual(training_record(ck, False), soup_record(ck["soup"]))
        rec = soup_record(ck["soup"])
        commands = rec["command"].split(" && ")
        self.assertEqual(commands, [parent["command"], "python3 -m ferkit_train.train --seed 2",
                                    "python3 -m ferkit_train.train --seed 3", "python3 -m ferkit_train.soup ..."])
        self.assertEqual(rec["totalEpochs"], 60 + 31 + 14)
        self.assertEqual([m["checkpoint"] for m in rec["members"]], ["s1/best.pt", "s2/last.pt", "p/best.pt"])

    def test_members_of_another_architecture_are_refused_by_name(self):
        net = build("resnet", widths="8,16", depths="1,1", stem_width=8)
        a = member(net, "a.pt", {"seed": 1}, 1)
        b = member(net, "b.pt", {"seed": 1}, 1)
        b.checkpoint["config"] = {"arch": "resnet", "widths": "8,32"}
        with self.assertRaisesRegex(SystemExit, "b.pt: architecture"):
            soup_checkpoint([a, b], "soup")


if __name__ == "__main__":
    unittest.main()
