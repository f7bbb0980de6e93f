import unittest

import numpy as np
import torch

from ferkit_train.ensemble_study import combine
from ferkit_train.models import Ensemble, build


class EnsembleTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.a = build("resnet", widths="8,16", depths="1,1", stem_width=8).eval()
        self.b = build("vgg", vgg_cfg="8,M,16", dropout=0.1).eval()
        self.x = torch.rand(5, 1, 48, 48) * 255

    def test_output_is_the_mean_of_temperature_scaled_log_probabilities(self):
        e = Ensemble([self.a, self.b], [2.0, 0.5]).eval()
        with torch.no_grad():
            want = (torch.log_softmax(self.a(self.x) / 2.0, 1) + torch.log_softmax(self.b(self.x) / 0.5, 1)) / 2
            got = e(self.x)
        torch.testing.assert_close(got, want)
        # softmax of the output is the members' normalised geometric mean: rows sum to 1 after softmax
        self.assertTrue(torch.allclose(torch.softmax(got, 1).sum(1), torch.ones(5)))

    def test_the_study_combines_logits_as_the_graph_does(self):
        e = Ensemble([self.a, self.b], [2.0, 0.5]).eval()
        with torch.no_grad():
            graph = e(self.x).numpy()
            study = combine([self.a(self.x).numpy(), self.b(self.x).numpy()], [2.0, 0.5])
        np.testing.assert_allclose(study, graph, rtol=1e-5, atol=1e-5)

    def test_a_model_twice_predicts_what_it_predicts_alone(self):
        e = Ensemble([self.a, self.a], [1.5, 1.5]).eval()
        with torch.no_grad():
            self.assertTrue(torch.equal(e(self.x).argmax(1), self.a(self.x).argmax(1)))

    def test_needs_two_members_each_with_a_temperature(self):
        with self.assertRaises(ValueError):
            Ensemble([self.a], [1.0])
        with self.assertRaises(ValueError):
            Ensemble([self.a, self.b], [1.0])


if __name__ == "__main__":
    unittest.main()
