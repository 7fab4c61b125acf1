"""Does BlazePose's spatial backbone see the limb depth that ARTS gets wrong? A linear probe (issue #10, item 5).

Why: building image features into the bridge means running the landmark model itself (scripts/
bench_pose_features.py), a large change to make only on evidence. The shared 1x2x2x288 tensor is a poor
candidate (MediaPipe's world landmarks, already an input, are one linear map of it), so this probes the 8x8
spatial maps before it, where each cell sees one part of the person: the map is sampled (bilinearly) where
each of the 12 limb joints lies in the crop, and a ridge regression per joint predicts the network's depth
error there (predicted minus true z, both aligned on the hips' midpoint, camera axes, as Depth-14). If the
error cannot be predicted, even linearly, from what the backbone sees at the joint, a feature taken there is
unlikely to fix it; a probe from the 2D landmarks alone (all 33, hip-centred, per torso length) is the
control. Scores are the mean |depth error| of the 12 joints before and after the probe's correction, on
detected clips held out by clip (--folds, grouped) and, trained on all of them, on the rendered evaluation
sets (the renders and the set lists of an eval_rendered.py --json run).

Beside the mean error, each table cell gives the depth order of the eight limb bones (upper arms, forearms,
thighs, shins; bridge.metrics.depth_order_errors): of the bones that clearly reach towards or away from the
camera, the share the network answers the other way round, before and after the correction. That order is
what landmarks leave most open and the image could settle (which limb hides which); setting every such bone
right would take rendered_unseen_kinds from 72.6 / 51.5 to 69.1 / 47.4 mm (session 57, the shipped network).
--test-clips scores the probe, fitted on all the --clips folders, on other folders: clips of kinds that never
train (detected_clips.py --split unseen). A second table asks the order directly: one logistic regression per
limb bone, reading the input at the bone's two joints beside the network's own depth span, says which way the
bone points; it is fitted on the --clips folders' clearly signed bones and scored against the network's share.

Inputs: detected_clips.py folders made with --keep-video (the clip's mp4 in DIR/videos/); the person crop is
the square around the body landmarks (11-32) at 1.25x their extent, upright (MediaPipe's own crop also
turns with the body), 256x256, pixels / 255 as the landmark model takes them. The network runs through
the bridge (process_video on the stored track, as scripts/eval_simulated_bridge.py). LiteRT is needed,
as for the benchmark:
    pip install ai-edge-litert   # 2.3.0 tried
    python scripts/probe_pose_features.py --clips .cache/arts/detected_s7 [DIR ...] [--test-clips DIR ...] \
        [--eval-json .cache/eval_s18/shipped.json] [--checkpoint PATH] [--lambdas 0.1,1,10] [--folds 5] \
        [--order-lambdas 0.001,0.01,0.1]

Session 18 (48 detected clips, 5,313 frames; the shipped network): no input and no penalty brought the error
below its uncorrected level in the grouped cross-validation (69.8 mm; best 70.3, backbone and landmarks
alike), nor on the held-out renders (56.4; best 57.0); on the unseen kinds the best was 65.4 against 66.3,
from the 2D landmarks. Too few clips to rule a feature out; enough to say no plain linear signal is there.

Session 58 (fitted on 64 clips of training kinds, 7,284 frames, look random; scored on 58 clips of kinds that
never train, 6,536 frames, and on the rendered sets; the shipped network): every probe made the error and the
order worse on every set, the backbone's maps no less than the 2D landmarks (unseen kinds 78.0 mm and 9.6 %
before, at best 79.0 and 10.2 % after), and the larger the penalty the less worse: no linear signal. The sign
classifiers on the backbone's maps fit the training clips' order almost perfectly (9.7 % wrong -> 1.0-5.6 %) and
transfer to none of the other sets (unseen kinds 9.6 % -> 13.3-15.4 %, rendered held-out 3.2 % -> 7.3-11.4 %):
they learn the clips, not the limbs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import metrics  # noqa: E402
from bridge.skeleton import LIMB_BONES  # noqa: E402
from scripts.bench_pose_features import landmark_model  # noqa: E402

#: The spatial tensors probed (8x8 cells of 32x32 crop pixels): the backbone's residual stream after its
#: eighth block, and the last 8x8 map of the regression branch.
PROBED = {"residual_8x8x144": "model_1/model/add_8/add",
          "regression_8x8x288": "model_1/model/re_lu_41/Relu6;model_1/model/batch_normalization_56/FusedBatchNormV3;"
                                "model_1/model/conv2d_35/BiasAdd/ReadVariableOp/resource;model_1/model/conv2d_35/"
                                "BiasAdd;model_1/model/conv2d_46/Conv2D;model_1/model/conv2d_35/Conv2D1"}
#: The 12 limb joints of LSP-14 as MediaPipe landmarks and as SMPL joints (shoulders, elbows, wrists, hips,
#: knees, ankles; left before right).
MP_JOINTS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
SMPL_JOINTS = (16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8)
CROP = 256
CELLS = 8


def crop_transform(image_landmarks: np.ndarray) -> np.ndarray:
    """(33, >=2) pixel landmarks -> the 2x3 affine map from the frame to the upright 256x256 person crop."""
    body = np.asarray(image_landmarks, np.float64)[11:33, :2]
    low, high = body.min(axis=0), body.max(axis=0)
    centre, side = (low + high) / 2.0, max(1.25 * float(np.max(high - low)), 32.0)
    scale = CROP / side
    return np.array([[scale, 0.0, CROP / 2 - scale * centre[0]], [0.0, scale, CROP / 2 - scale * centre[1]]])


def sample_cells(feature_map: np.ndarray, crop_points: np.ndarray) -> np.ndarray:
    """feature_map (8, 8, C), crop_points (J, 2) crop pixels -> (J, C): bilinear between cell centres,
    clamped at the border."""
    cells = feature_map.shape[0]
    xy = np.clip(np.asarray(crop_points, np.float64) * cells / CROP - 0.5, 0.0, cells - 1.0)
    x0, y0 = np.floor(xy).astype(int).T
    x1, y1 = np.minimum(x0 + 1, cells - 1), np.minimum(y0 + 1, cells - 1)
    wx, wy = (xy[:, 0] - x0)[:, None], (xy[:, 1] - y0)[:, None]
    return (feature_map[y0, x0] * (1 - wx) * (1 - wy) + feature_map[y0, x1] * wx * (1 - wy)
            + feature_map[y1, x0] * (1 - wx) * wy + feature_map[y1, x1] * wx * wy)


def limb_depths(joints: np.ndarray) -> np.ndarray:
    """(F, 24, 3) camera-axes joints -> (F, 12) depths of the limb joints, aligned on the hips' midpoint
    (Depth-14's alignment), metres."""
    joints = np.asarray(joints, np.float64)
    return joints[:, SMPL_JOINTS, 2] - joints[:, [1, 2], 2].mean(axis=1, keepdims=True)


def depth_errors(pred_joints: np.ndarray, true_joints: np.ndarray) -> np.ndarray:
    """(F, 24, 3), (F, 24, 3) -> (F, 12) predicted minus true limb_depths, metres."""
    return limb_depths(pred_joints) - limb_depths(true_joints)


def with_depth_errors(true_joints: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """The joints whose limb_depths are the truth's plus `errors` (F, 12): enough of a prediction to score
    its limb bones' depth order (bridge.metrics.depth_order_errors reads only their depths)."""
    joints = np.array(true_joints, np.float64)
    joints[:, SMPL_JOINTS, 2] += errors
    return joints


def landmark_geometry(image_landmarks: np.ndarray) -> np.ndarray:
    """(33, >=2) -> (66,): the control's input, all landmarks relative to the hips' midpoint per torso length."""
    xy = np.asarray(image_landmarks, np.float64)[:, :2]
    hips, shoulders = xy[[23, 24]].mean(axis=0), xy[[11, 12]].mean(axis=0)
    return ((xy - hips) / max(float(np.linalg.norm(shoulders - hips)), 1.0)).ravel()


class JointProbes:
    """One ridge regression per joint (features standardised on the training rows, intercept not shrunk)."""

    def __init__(self, features: np.ndarray, targets: np.ndarray, lam: float) -> None:
        """features (N, J, D), targets (N, J); lam scales with N (the penalty per row)."""
        self.mean, self.std = features.mean(axis=0), features.std(axis=0) + 1e-6
        z = self._design(features)
        penalty = lam * len(features) * np.diag(np.r_[np.ones(z.shape[2] - 1), 0.0])
        self.weights = np.stack([np.linalg.solve(z[:, j].T @ z[:, j] + penalty, z[:, j].T @ targets[:, j])
                                 for j in range(features.shape[1])])

    def _design(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.std
        return np.concatenate([z, np.ones(z.shape[:2] + (1,))], axis=2)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.einsum("njd,jd->nj", self._design(features), self.weights)


class ClipRows(NamedTuple):
    """One clip's rows: the probe's inputs and what it is scored on."""

    features: np.ndarray  # (N, 12, D)
    errors: np.ndarray  # (N, 12) the network's depth errors (depth_errors), m
    true_joints: np.ndarray  # (N, 24, 3) camera axes, m


class Score(NamedTuple):
    """Mean |depth error| (mm) and the share (%) of clearly signed limb bones in the wrong depth order
    (bridge.metrics.depth_order_errors), before and after the probe's correction."""

    error_before: float
    error_after: float
    wrong_before: float
    wrong_after: float


def score(clips: list[ClipRows], corrections: list[np.ndarray]) -> Score:
    """The Score of these clips with these predicted errors (one (N, 12) array per clip) taken off."""
    errors = np.concatenate([c.errors for c in clips])
    corrected = errors - np.concatenate(corrections)
    truth = np.concatenate([c.true_joints for c in clips])
    clear, wrong_before = metrics.depth_order_errors(with_depth_errors(truth, errors), truth)
    _, wrong_after = metrics.depth_order_errors(with_depth_errors(truth, corrected), truth)
    share = 100.0 / max(clear, 1)
    return Score(1e3 * float(np.abs(errors).mean()), 1e3 * float(np.abs(corrected).mean()),
                 share * wrong_before, share * wrong_after)


def fitted(train: list[ClipRows], lam: float) -> JointProbes:
    return JointProbes(np.concatenate([c.features for c in train]), np.concatenate([c.errors for c in train]), lam)


def probe_scores(probes: JointProbes, test: list[ClipRows]) -> Score:
    """The test clips' Score with `probes` (fitted) taking off the errors they predict."""
    return score(test, [probes.predict(c.features) for c in test])


def grouped_cv(clips: list[ClipRows], lam: float, folds: int) -> Score:
    """The Score of every clip corrected by the probe fitted on the other folds (`folds` folds of whole
    clips)."""
    corrections: list[np.ndarray] = [np.zeros_like(c.errors) for c in clips]
    for fold in range(folds):
        held = [k for k in range(len(clips)) if k % folds == fold]
        if not held:
            continue
        probes = fitted([c for k, c in enumerate(clips) if k % folds != fold], lam)
        for k in held:
            corrections[k] = probes.predict(clips[k].features)
    return score(clips, corrections)


def bone_rows(clips: list[ClipRows], bone: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clearly signed rows (bridge.metrics.clear_limb_bones) of limb bone `bone` (bridge.skeleton.LIMB_BONES):
    features (n, 2D + 1), the features at its two joints and the network's depth span per bone length; the
    true sign (n,) of its span; the network's sign (n,)."""
    parent, child = LIMB_BONES[bone]
    p, c = SMPL_JOINTS.index(parent), SMPL_JOINTS.index(child)
    features, truth, network = [], [], []
    for clip in clips:
        joints = clip.true_joints
        span = metrics.limb_depth_spans(joints)[:, bone]
        answered = metrics.limb_depth_spans(with_depth_errors(joints, clip.errors))[:, bone]
        clear = metrics.clear_limb_bones(joints)[:, bone]
        length = np.linalg.norm(joints[:, child] - joints[:, parent], axis=1)
        rows = np.concatenate([clip.features[:, p], clip.features[:, c], (answered / length)[:, None]], axis=1)
        features.append(rows[clear])
        truth.append(np.sign(span[clear]))
        network.append(np.sign(answered[clear]))
    return np.concatenate(features), np.concatenate(truth), np.concatenate(network)


class SignClassifier:
    """L2 logistic regression (Newton's method; features standardised, intercept not shrunk): does the input
    tell which way a bone points along the optical axis?"""

    def __init__(self, features: np.ndarray, signs: np.ndarray, lam: float, steps: int = 25) -> None:
        """lam scales with the row count, as JointProbes' penalty."""
        self.mean, self.std = features.mean(axis=0), features.std(axis=0) + 1e-6
        z = self._design(features)
        target = (np.asarray(signs) > 0).astype(np.float64)
        penalty = lam * len(z) * np.diag(np.r_[np.ones(z.shape[1] - 1), 0.0])
        self.weights = np.zeros(z.shape[1])
        for _ in range(steps):
            prob = 1.0 / (1.0 + np.exp(-np.clip(z @ self.weights, -30.0, 30.0)))
            gradient = z.T @ (prob - target) + penalty @ self.weights
            hessian = (z * (prob * (1.0 - prob))[:, None]).T @ z + penalty
            self.weights -= np.linalg.solve(hessian + 1e-9 * np.eye(len(hessian)), gradient)

    def _design(self, features: np.ndarray) -> np.ndarray:
        return np.concatenate([(features - self.mean) / self.std, np.ones((len(features), 1))], axis=1)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.where(self._design(features) @ self.weights >= 0.0, 1.0, -1.0)


def sign_classifiers(train: list[ClipRows], lam: float) -> list[SignClassifier]:
    """One SignClassifier per limb bone, fitted on the clearly signed rows of `train`."""
    return [SignClassifier(*bone_rows(train, bone)[:2], lam) for bone in range(len(LIMB_BONES))]


def order_scores(classifiers: list[SignClassifier], test: list[ClipRows]) -> tuple[float, float]:
    """(the network's, the classifiers') share (%) of the test clips' clearly signed limb bones pointed the
    wrong way; `classifiers` from sign_classifiers."""
    clear = network_wrong = classifier_wrong = 0
    for bone, classifier in enumerate(classifiers):
        features, truth, network = bone_rows(test, bone)
        clear += len(truth)
        network_wrong += int(np.sum(network != truth))
        classifier_wrong += int(np.sum(classifier.predict(features) != truth))
    return 100.0 * network_wrong / max(clear, 1), 100.0 * classifier_wrong / max(clear, 1)


# ---------------------------------------------------------------------------------------------------------
# Collecting features and errors (LiteRT, the bridge, video).

class Backbone:
    """The landmark model cut at each probed tensor, run on person crops."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        from scripts.build_pose_task import build_pose_task
        from scripts.tflite_graph import output_at

        whole = landmark_model(build_pose_task())
        self.interpreters = {}
        for name, tensor in PROBED.items():
            interpreter = Interpreter(model_content=output_at(whole, tensor), num_threads=1)
            interpreter.allocate_tensors()
            self.interpreters[name] = interpreter

    def features(self, frame_rgb: np.ndarray, image_landmarks: np.ndarray) -> dict[str, np.ndarray]:
        """{probed name: (12, C)} and 'landmarks_2d': (12, 66) for one frame."""
        import cv2

        affine = crop_transform(image_landmarks)
        crop = cv2.warpAffine(frame_rgb, affine.astype(np.float32), (CROP, CROP)).astype(np.float32) / 255.0
        points = np.asarray(image_landmarks, np.float64)[list(MP_JOINTS), :2] @ affine[:, :2].T + affine[:, 2]
        out = {"landmarks_2d": np.repeat(landmark_geometry(image_landmarks)[None], len(MP_JOINTS), axis=0)}
        for name, interpreter in self.interpreters.items():
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], crop[None])
            interpreter.invoke()
            fmap = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
            out[name] = sample_cells(fmap, points)
        return out


def clip_rows(backbone: Backbone, video: Path, track, true_joints: np.ndarray, focal_px: float | None,
              checkpoint: str | None, work: Path) -> dict[str, ClipRows]:
    """{feature name: ClipRows} over the frames the bridge and the track both found; the network runs
    through process_video on `track` over a black video of the clip's size."""
    import cv2
    from scripts.eval_simulated_bridge import black_video, person_box, run_on_track

    from bridge import video as bridge_video

    frames = [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for _, frame in bridge_video.iter_frames(str(video))]
    height, width = frames[0].shape[:2]
    black = black_video(work / "black.mp4", len(track.valid), (width, height), 30.0)
    joints, valid = run_on_track(black, track, person_box(track), focal_px, checkpoint=checkpoint)
    valid[len(frames):] = False
    truth = np.asarray(true_joints, np.float64)[valid]
    errors = depth_errors(joints[valid], truth)
    per_frame = [backbone.features(frames[f], track.image_landmarks[f]) for f in np.flatnonzero(valid)]
    return {name: ClipRows(np.stack([p[name] for p in per_frame]).astype(np.float32), errors, truth)
            for name in per_frame[0]}


def detected_rows(backbone: Backbone, folder: Path, checkpoint: str | None, work: Path, log
                  ) -> list[dict[str, ClipRows]]:
    """clip_rows of every clip in a detected_clips.py folder that kept its video and has 20 found frames."""
    from scripts.eval_simulated_bridge import simulated_track
    from scripts.synth.clip_file import load_clip

    out = []
    for path in sorted(folder.glob("*.npz")):
        video = folder / "videos" / f"{path.stem}.mp4"
        clip = load_clip(path)
        track = simulated_track(clip)
        if not video.is_file() or track.valid.sum() < 20:
            continue
        out.append(clip_rows(backbone, video, track, clip["joints_3d"], float(clip["focal_px"]), checkpoint, work))
        log(f"{folder.name}/{path.name}: {len(out[-1]['landmarks_2d'].errors)} frames")
    return out


def rendered_rows(backbone: Backbone, eval_json: Path, checkpoint: str | None, work: Path, log
                  ) -> dict[str, list[dict[str, ClipRows]]]:
    """{set: clip_rows per clip} of an eval_rendered.py --json run's renders (MediaPipe tracked again)."""
    from bridge.pipeline import ProcessOptions, track_video

    run = json.loads(eval_json.read_text())
    out_dir = Path(run["config"]["out"])
    sets: dict[str, list] = {}
    for name, content in run["sets"].items():
        for clip in content["clips"]:
            base = out_dir / clip["name"]
            truth = np.load(base.with_suffix(".npz"))
            _, track, _ = track_video(ProcessOptions(video=str(base.with_suffix(".mp4"))))
            sets.setdefault(name, []).append(clip_rows(backbone, base.with_suffix(".mp4"), track, truth["joints_3d"],
                                                       float(truth["focal_px"]), checkpoint, work))
            log(f"{name}/{clip['name']}")
    return sets


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=Path, nargs="+", required=True, help="detected_clips.py folders (--keep-video)")
    ap.add_argument("--test-clips", type=Path, nargs="*", default=[],
                    help="more such folders, scored with the probe fitted on all of --clips (unseen kinds)")
    ap.add_argument("--eval-json", type=Path, default=None, help="an eval_rendered.py --json file (its renders)")
    ap.add_argument("--checkpoint", default=None, help="ARTS checkpoint (default: the shipped one)")
    ap.add_argument("--lambdas", default="0.1,1,10", help="ridge penalties per row")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--order-lambdas", default="0.001,0.01,0.1", help="the sign classifiers' penalties per row")
    args = ap.parse_args(argv)
    try:
        backbone = Backbone()
    except ImportError:
        sys.exit("this probe needs LiteRT: pip install ai-edge-litert")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train = [c for folder in args.clips for c in detected_rows(backbone, folder, args.checkpoint, work, log)]
        tests = {folder.name: detected_rows(backbone, folder, args.checkpoint, work, log)
                 for folder in args.test_clips}
        if args.eval_json:
            tests.update(rendered_rows(backbone, args.eval_json, args.checkpoint, work, log))
    frames = sum(len(c["landmarks_2d"].errors) for c in train)
    print(f"{len(train)} detected clips, {frames} frames. Each cell: mean |depth error| of the 12 limb joints (mm), "
          f"then the limb bones in the wrong depth order (% of those clearly signed), before -> after the probe's "
          f"correction\n")
    print("| input | lambda | detected clips, grouped CV | " + " | ".join(tests) + " |")
    print("|---|---|---|" + "---|" * len(tests))
    for name in ("landmarks_2d", *PROBED):
        clips = [c[name] for c in train]
        for lam in (float(v) for v in args.lambdas.split(",")):
            probes = fitted(clips, lam)
            cells = [grouped_cv(clips, lam, args.folds)]
            cells += [probe_scores(probes, [c[name] for c in items]) for items in tests.values()]
            print(f"| {name} | {lam:g} | " + " | ".join(
                f"{c.error_before:.1f} -> {c.error_after:.1f}; {c.wrong_before:.1f} -> {c.wrong_after:.1f} %"
                for c in cells) + " |")
    print("\nWhich way each limb bone points, from the input at its two joints and the network's own depth span "
          "(one logistic regression per bone, fitted on the detected clips): the share of clearly signed bones "
          "pointed the wrong way, the network's -> the classifiers'\n")
    sets = {"detected clips (fitted on them)": train, **tests}
    print("| input | lambda | " + " | ".join(sets) + " |")
    print("|---|---|" + "---|" * len(sets))
    for name in ("landmarks_2d", *PROBED):
        for lam in (float(v) for v in args.order_lambdas.split(",")):
            classifiers = sign_classifiers([c[name] for c in train], lam)
            cells = [order_scores(classifiers, [c[name] for c in items]) for items in sets.values()]
            print(f"| {name} | {lam:g} | " + " | ".join(f"{before:.1f} -> {after:.1f} %" for before, after in cells)
                  + " |")


if __name__ == "__main__":
    main()
