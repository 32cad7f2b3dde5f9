#!/usr/bin/python3
"""Train the three models frim-mesh ships, on Fashion-MNIST, and export them to ONNX.

In the spirit of the FRIM paper's AlexNet, ResNet and VGG-16, scaled to 28x28 grey images and a
2-core machine while keeping each family's shape:
  - alexnet: wide early convolutions (a 5x5 stem), then a 3-conv stack and big dense layers;
  - resnet:  basic residual blocks with identity and projection skip connections;
  - vgg:     deep stacks of 3x3 convolutions between poolings.

Seeded and single-process so a rebuild gives the same weights. Run with Debian's python
(scripts/train/rebuild.sh installs what it needs):

    /usr/bin/python3 scripts/train/train.py --out public/models --sample public/fashion-mnist-sample.bin
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = '/usr/share/datasets/fashion-mnist'
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
MEAN, STD = 0.2860, 0.3530


def read_idx(name):
    for candidate in (os.path.join(DATA, name), os.path.join(DATA, name + '.gz')):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith('.gz') else open
            with opener(candidate, 'rb') as f:
                data = f.read()
            magic, count = struct.unpack('>II', data[:8])
            if magic == 2051:
                rows, cols = struct.unpack('>II', data[8:16])
                return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
            return np.frombuffer(data, np.uint8, offset=8)
    raise FileNotFoundError(f'{name} not found under {DATA}: apt-get install dataset-fashion-mnist')


class Normalize(nn.Module):
    """Inputs are pixels scaled to [0, 1]; the model normalises them itself, so every runtime feeds the same thing."""

    def forward(self, x):
        return (x - MEAN) / STD


def conv_bn(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class AlexNetFM(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            Normalize(),
            conv_bn(1, 24, k=5), nn.MaxPool2d(2),            # wide early receptive field, 14x14
            conv_bn(24, 48), nn.MaxPool2d(2),                # 7x7
            conv_bn(48, 64), conv_bn(64, 64), conv_bn(64, 48),
            nn.MaxPool2d(2),                                 # 3x3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.25), nn.Linear(48 * 3 * 3, 768), nn.ReLU(inplace=True),
            nn.Dropout(0.25), nn.Linear(768, 768), nn.ReLU(inplace=True),
            nn.Linear(768, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNetFM(nn.Module):
    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.stem = nn.Sequential(Normalize(), conv_bn(1, w1))
        self.layers = nn.Sequential(
            BasicBlock(w1, w1, 1),                           # 28x28, identity skip
            BasicBlock(w1, w2, 2), BasicBlock(w2, w2, 1),    # 14x14, projection then identity
            BasicBlock(w2, w3, 2), BasicBlock(w3, w3, 1),    # 7x7
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(w3, 10))

    def forward(self, x):
        return self.head(self.layers(self.stem(x)))


class VGGFM(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            Normalize(),
            conv_bn(1, 16), conv_bn(16, 16), nn.MaxPool2d(2),                   # 14x14
            conv_bn(16, 32), conv_bn(32, 32), nn.MaxPool2d(2),                  # 7x7
            conv_bn(32, 48), conv_bn(48, 48), conv_bn(48, 48), nn.MaxPool2d(2),  # 3x3
            conv_bn(48, 64), conv_bn(64, 64), conv_bn(64, 64),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 3 * 3, 256), nn.ReLU(inplace=True),
            nn.Dropout(0.25), nn.Linear(256, 256), nn.ReLU(inplace=True), nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


MODELS = {
    'alexnet': (AlexNetFM, 'AlexNet-style: a 5x5 stem, a three-convolution stack and two 768-wide dense layers that hold most of the weights.'),
    'resnet': (ResNetFM, 'ResNet-style: five basic residual blocks (identity and 1x1 projection skips) over three stages of width 16, 32, 64, global average pooling.'),
    'vgg': (VGGFM, 'VGG-style: eleven 3x3 convolutions in stacks of 2, 2, 3 and 3 between poolings, then dense layers.'),
}



# --- Baselines for the paper's table (bench): the same three families, cut in three blocks ---------
#
# Each family as a list of units (one per layer or block) and where its three blocks start, chosen so
# the blocks' compute is close to a third each. The variants are trained from scratch with the same
# recipe; their cut points are recorded in the ONNX metadata (`frim.cuts`), so frim-mesh cuts them
# exactly where the exits and hyper-connections are.

def family_units(name):
    if name == 'alexnet':
        return [Normalize(), conv_bn(1, 24, k=5), nn.MaxPool2d(2), conv_bn(24, 48), nn.MaxPool2d(2),
                conv_bn(48, 64), conv_bn(64, 64),
                conv_bn(64, 48), nn.MaxPool2d(2), nn.Flatten(),
                nn.Dropout(0.25), nn.Linear(48 * 3 * 3, 768), nn.ReLU(), nn.Dropout(0.25), nn.Linear(768, 768), nn.ReLU(),
                nn.Linear(768, 10)], (5, 7)
    if name == 'resnet':
        return [Normalize(), conv_bn(1, 16), BasicBlock(16, 16, 1), BasicBlock(16, 32, 2),
                BasicBlock(32, 32, 1), BasicBlock(32, 64, 2),
                BasicBlock(64, 64, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)], (4, 6)
    if name == 'vgg':
        return [Normalize(), conv_bn(1, 16), conv_bn(16, 16), nn.MaxPool2d(2), conv_bn(16, 32),
                conv_bn(32, 32), nn.MaxPool2d(2), conv_bn(32, 48), conv_bn(48, 48),
                conv_bn(48, 48), nn.MaxPool2d(2), conv_bn(48, 64), conv_bn(64, 64), conv_bn(64, 64), nn.Flatten(),
                nn.Dropout(0.25), nn.Linear(64 * 3 * 3, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 256), nn.ReLU(),
                nn.Linear(256, 10)], (5, 10)
    raise ValueError(name)


def three_blocks(name):
    units, (a, b) = family_units(name)
    blocks = [nn.Sequential(*units[:a]), nn.Sequential(*units[a:b]), nn.Sequential(*units[b:])]
    with torch.no_grad():
        h1 = blocks[0](torch.zeros(2, 1, 28, 28))
        h2 = blocks[1](h1)
    return blocks, h1.shape[1:], h2.shape[1:]


def exit_head(shape):
    """A small classifier on a block's feature maps: one 3x3 convolution, global pooling, a linear layer."""
    return nn.Sequential(conv_bn(shape[0], 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


class Part(nn.Module):
    """One partition of a variant, called as a module so torch names its nodes /p<k>/… on export.
    `kind` says how the partition combines its inputs:
      exit    h = body(x), and its exit head's answer head(h)
      skip    body(main + head(skip)): the skip hyper-connection `head` from the partition before last
      output  main + head(skip): the output layer of the skip variant
    """

    def __init__(self, body, head=None, kind='plain'):
        super().__init__()
        self.body, self.head, self.kind = body, head, kind

    def forward(self, x, skip=None):
        if self.kind == 'exit':
            h = self.body(x)
            return h, self.head(h)
        if self.kind == 'skip':
            return self.body(x + self.head(skip))
        if self.kind == 'output':
            return x + self.head(skip)
        return self.body(x)


class EarlyExitNet(nn.Module):
    """Exit heads at the two partition boundaries (BranchyNet-style), trained jointly with the final
    classifier. Outputs: logits, exit1, exit2; frim-mesh's early-exit mode answers from the last exit
    before a failed partition."""

    def __init__(self, name):
        super().__init__()
        (b1, b2, b3), s1, s2 = three_blocks(name)
        self.p1, self.p2, self.p3 = Part(b1, exit_head(s1), 'exit'), Part(b2, exit_head(s2), 'exit'), Part(b3)

    def forward(self, x):
        h1, e1 = self.p1(x)
        h2, e2 = self.p2(h1)
        return self.p3(h2), e1, e2

    def loss(self, x, y):
        logits, e1, e2 = self(x)
        ce = lambda z: F.cross_entropy(z, y, label_smoothing=0.05)
        return ce(logits) + 0.5 * ce(e1) + 0.5 * ce(e2)


def hyper(cin_shape, cout_shape):
    """A skip hyper-connection: pool to the target's size, then a 1x1 convolution to its channels."""
    k = cin_shape[-1] // cout_shape[-1]
    return nn.Sequential(nn.AvgPool2d(k) if k > 1 else nn.Identity(),
                         nn.Conv2d(cin_shape[0], cout_shape[0], 1, bias=False), nn.BatchNorm2d(cout_shape[0]), nn.ReLU())


class SkipNet(nn.Module):
    """DFG / ResiliNet: skip hyper-connections over each partition, trained with failout (each
    partition's output zeroed at random), so a failed partition is bypassed: its output is taken as
    zero and the hyper-connection from the one before carries on. Four partitions: three blocks and
    the output layer, which runs on the requesting device (the cloud of DFG):
        h1 = P1(x);  h2 = P2(h1 + A(x));  z3 = P3(h2 + H(h1));  logits = z3 + C(h2)
    """

    FAILOUT = 0.15

    def __init__(self, name):
        super().__init__()
        (b1, b2, b3), s1, s2 = three_blocks(name)
        self.p1 = Part(b1)
        self.p2 = Part(b2, hyper((1, 28, 28), s1), 'skip')
        self.p3 = Part(b3, hyper(s1, s2), 'skip')
        self.p4 = Part(None, nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(s2[0], 10)), 'output')

    def forward(self, x, masks=None):
        # masks: per-sample 0/1 for each partition in training, 0 or 1 for a whole failed partition in
        # evaluation; none on export (no multiplications in the graph)
        mask = (lambda t, k: t * masks[k]) if masks else (lambda t, k: t)
        h1 = mask(self.p1(x), 0)
        h2 = mask(self.p2(h1, x), 1)
        z3 = mask(self.p3(h2, h1), 2)
        return self.p4(z3, h2)

    def loss(self, x, y):
        n = x.shape[0]
        masks = [(torch.rand(n, *([1] * (x.dim() - 1))) >= self.FAILOUT).float() for _ in range(2)]
        masks.append((torch.rand(n, 1) >= self.FAILOUT).float())
        return F.cross_entropy(self(x, masks), y, label_smoothing=0.05)


VARIANTS = {
    'early-exit': (EarlyExitNet, ['logits', 'exit1', 'exit2'],
                   'exit heads (a 3x3 convolution, global pooling, a linear layer) after its first and second partitions, trained jointly with the final classifier'),
    'skip-connection': (SkipNet, ['logits'],
                        'skip hyper-connections over each of its three partitions and an output layer of its own, trained with failout (each partition zeroed with probability 0.15)'),
}


def augment(x, rng):
    """Random 2-pixel shifts and horizontal flips (clothes are left-right symmetric enough)."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dx = rng.integers(0, 5, n)
    dy = rng.integers(0, 5, n)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])
    flip = torch.from_numpy(rng.random(n) < 0.5)
    out[flip] = out[flip].flip(-1)
    return out


def evaluate(model, x, y, run=None):
    """Top-1 accuracy of `run(model, batch)` (default: the model's first output)."""
    model.eval()
    run = run or (lambda m, xb: first(m(xb)))
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (run(model, x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def first(out):
    return out[0] if isinstance(out, tuple) else out


def train(name, epochs, xtr, ytr, xte, yte, seed, make=None):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    # channels-last routes convolutions to oneDNN: about 1.5x faster on this CPU
    model = (make() if make else MODELS[name][0]()).to(memory_format=torch.channels_last)
    lossf = getattr(model, 'loss', None) or (lambda x, y: F.cross_entropy(model(x), y, label_smoothing=0.05))
    batch = 128
    steps = epochs * (len(xtr) // batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.25)
    for epoch in range(epochs):
        model.train()
        started = time.time()
        order = torch.from_numpy(rng.permutation(len(xtr)))
        for i in range(0, len(xtr) - batch + 1, batch):
            idx = order[i:i + batch]
            xb = augment(xtr[idx], rng).contiguous(memory_format=torch.channels_last)
            loss = lossf(xb, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc = evaluate(model, xte, yte)
        print(f'{name} epoch {epoch + 1}/{epochs}: test accuracy {acc:.4f} ({time.time() - started:.0f} s)', flush=True)
    return model, acc


def export(model, path):
    model = model.to(memory_format=torch.contiguous_format).eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)


def export_variant(model, path, kind, outputs, parts):
    """Exports a variant and records in its metadata where frim-mesh must cut it: after the last node
    of each partition module (p1, p2, ...), found by the module path torch puts in node names."""
    import onnx
    model = model.to(memory_format=torch.contiguous_format).eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=['input'], output_names=outputs,
                      dynamic_axes={'input': {0: 'batch'}, **{o: {0: 'batch'} for o in outputs}}, do_constant_folding=True)
    m = onnx.load(path)
    cuts = []
    for k in range(1, parts):
        last = [n for n in m.graph.node if n.name.startswith(f'/p{k}/')][-1]
        cuts.append(last.output[0])
    meta = {'frim.variant': kind, 'frim.cuts': ','.join(cuts)}
    if kind == 'early-exit':
        meta['frim.exits'] = ','.join(outputs[1:])
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, path)
    return cuts


def failure_accuracies(model, kind, x, y):
    """What each failure set should cost, computed here in PyTorch: the reference the bench's real runs
    are compared with. Partition k runs on device Dk; a request with no answer counts as wrong."""
    sets = [[], [1], [2], [3], [1, 2], [2, 3], [1, 3]]
    out = {}
    for failed in sets:
        key = '+'.join(f'D{k}' for k in failed) or 'healthy'
        if kind == 'early-exit':
            stop = min(failed) if failed else None
            if stop == 1:
                out[key] = 0.0
                continue
            pick = {None: 0, 2: 1, 3: 2}[stop]
            out[key] = round(evaluate(model, x, y, lambda m, xb: m(xb)[pick]), 4)
        else:
            masks = tuple(0.0 if k in failed else 1.0 for k in (1, 2, 3))
            out[key] = round(evaluate(model, x, y, lambda m, xb: m(xb, masks)), 4)
    return out


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_sample(path, x, y, seed, count=1000):
    """1 000 test images, 100 per class, as: 'FMS1', u32 count, u8 rows, u8 cols, u8 labels[count], u8 pixels[count*rows*cols]."""
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.choice(np.flatnonzero(y == c), count // 10, replace=False) for c in range(10)])
    picks = picks[rng.permutation(len(picks))]
    with open(path, 'wb') as f:
        f.write(b'FMS1' + struct.pack('<IBB', len(picks), 28, 28))
        f.write(y[picks].astype(np.uint8).tobytes())
        f.write(x[picks].astype(np.uint8).tobytes())
    return picks


def variant_rows(c):
    if 'variant' not in c:
        return ''
    v = c['variant']
    fa = ', '.join(f'{k} {100 * a:.1f} %' for k, a in c['failureAccuracy'].items())
    return (f'| baseline | `{v["kind"]}` variant of `{v["of"]}`: {v["partitions"]} partitions, cut after `{"`, `".join(v["cuts"])}` (ONNX metadata `frim.cuts`) |\n'
            f'| accuracy under failure (PyTorch, 10 000 test images; partition k on device Dk) | {fa} |\n')


def model_card_markdown(c):
    return f'''# {c["name"]} (frim-mesh shipped model)

{c["architecture"]}

| | |
| --- | --- |
| file | `{c["file"]}` ({c["bytes"]:,} bytes, sha256 `{c["sha256"][:16]}…`) |
| parameters | {c["parameters"]:,} |
| data | {c["dataset"]} |
| test accuracy | {100 * c["testAccuracy"]:.2f} % on the 10 000 test images ({100 * c["sampleAccuracy"]:.1f} % on the shipped 1 000-image sample) |
| training | {c["epochs"]} epochs, SGD with Nesterov momentum, one-cycle learning rate, 2-pixel shifts and flips, seed {c["seed"]} |
| input | `{c["input"]["name"]}`: float32 [{", ".join(map(str, c["input"]["dims"]))}], {c["input"]["meaning"]} |
| output | `{c["output"]["name"]}`: float32 [{", ".join(map(str, c["output"]["dims"]))}], logits over {", ".join(c["output"]["classes"])} |
| format | ONNX opset {c["opset"]}, dynamic batch dimension, BatchNorm folded into the convolutions |
{variant_rows(c)}
Rebuild every shipped model, card and the test sample: `{c["rebuild"]}` (Debian's torch, torchvision, onnx and
dataset-fashion-mnist; about half an hour on two cores).
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='public/models')
    ap.add_argument('--sample', default='public/fashion-mnist-sample.bin')
    ap.add_argument('--models', default='alexnet,resnet,vgg')
    ap.add_argument('--variants', default='alexnet,resnet,vgg', help='families to train the early-exit and skip-connection baselines of ("" for none)')
    ap.add_argument('--epochs', type=int, default=0, help='override every model\'s epoch count')
    ap.add_argument('--seed', type=int, default=20250381)
    ap.add_argument('--limit', type=int, default=0, help='train on the first N images only (a quick check of the script, not a model to ship)')
    ap.add_argument('--index-only', action='store_true', help='only rewrite models/index.json and the Markdown cards from the JSON cards')
    args = ap.parse_args()
    if args.index_only:
        return write_index(args.out)

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    xtr_u8, ytr_np = read_idx('train-images-idx3-ubyte'), read_idx('train-labels-idx1-ubyte')
    xte_u8, yte_np = read_idx('t10k-images-idx3-ubyte'), read_idx('t10k-labels-idx1-ubyte')
    to_tensor = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)
    xtr, ytr = to_tensor(xtr_u8), torch.from_numpy(ytr_np.astype(np.int64))
    xte, yte = to_tensor(xte_u8), torch.from_numpy(yte_np.astype(np.int64))
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]

    os.makedirs(args.out, exist_ok=True)
    picks = write_sample(args.sample, xte_u8, yte_np, args.seed)
    epochs = {'alexnet': 4, 'resnet': 7, 'vgg': 4}
    for name in filter(None, args.variants.split(',')):
        for kind in VARIANTS:
            train_variant(name, kind, args.epochs or epochs[name], args, xtr, ytr, xte, yte, picks)
    for name in filter(None, args.models.split(',')):
        model, acc = train(name, args.epochs or epochs[name], xtr, ytr, xte, yte, args.seed)
        onnx_path = os.path.join(args.out, f'{name}.onnx')
        export(model, onnx_path)
        params = sum(p.numel() for p in model.parameters())
        sample_acc = (model(xte[picks]).argmax(1) == yte[picks]).float().mean().item()
        card = {
            'name': name,
            'file': f'{name}.onnx',
            'architecture': MODELS[name][1],
            'parameters': params,
            'bytes': os.path.getsize(onnx_path),
            'sha256': sha256(onnx_path),
            'dataset': 'Fashion-MNIST (60 000 train / 10 000 test, 28x28 grey, 10 classes)',
            'testAccuracy': round(acc, 4),
            'sampleAccuracy': round(sample_acc, 4),
            'epochs': args.epochs or epochs[name],
            'seed': args.seed,
            'input': {'name': 'input', 'dims': ['batch', 1, 28, 28], 'type': 'float32', 'meaning': 'pixels / 255 (the model normalises itself)'},
            'output': {'name': 'logits', 'dims': ['batch', 10], 'type': 'float32', 'classes': CLASSES},
            'opset': 13,
            'rebuild': 'bash scripts/train/rebuild.sh',
        }
        with open(os.path.join(args.out, f'{name}.card.json'), 'w') as f:
            json.dump(card, f, indent=2)
        with open(os.path.join(args.out, f'{name}.md'), 'w') as f:
            f.write(model_card_markdown(card))
        print(f'{name}: {params} parameters, {card["bytes"]} bytes, test accuracy {acc:.4f}', flush=True)
    write_index(args.out)


def train_variant(name, kind, epochs, args, xtr, ytr, xte, yte, picks):
    make, outputs, what = VARIANTS[kind]
    full = f'{name}-{kind}'
    model, acc = train(full, epochs, xtr, ytr, xte, yte, args.seed, make=lambda: make(name))
    path = os.path.join(args.out, f'{full}.onnx')
    parts = 3 if kind == 'early-exit' else 4
    cuts = export_variant(model, path, kind, outputs, parts)
    model.eval()
    with torch.no_grad():
        sample_acc = (first(model(xte[picks])).argmax(1) == yte[picks]).float().mean().item()
    card = {
        'name': full,
        'file': f'{full}.onnx',
        'architecture': f'The {name} family cut in three partitions, with {what}. A baseline for the paper\'s table (npm run bench).',
        'parameters': sum(p.numel() for p in model.parameters()),
        'bytes': os.path.getsize(path),
        'sha256': sha256(path),
        'dataset': 'Fashion-MNIST (60 000 train / 10 000 test, 28x28 grey, 10 classes)',
        'testAccuracy': round(acc, 4),
        'sampleAccuracy': round(sample_acc, 4),
        'epochs': epochs,
        'seed': args.seed,
        'input': {'name': 'input', 'dims': ['batch', 1, 28, 28], 'type': 'float32', 'meaning': 'pixels / 255 (the model normalises itself)'},
        'output': {'name': 'logits', 'dims': ['batch', 10], 'type': 'float32', 'classes': CLASSES},
        'opset': 13,
        'rebuild': 'bash scripts/train/rebuild.sh',
        'variant': {'kind': kind, 'of': name, 'partitions': parts, 'cuts': cuts, 'exits': outputs[1:]},
        # test-set accuracy when partition k (on device Dk) fails, as computed in PyTorch
        'failureAccuracy': failure_accuracies(model, kind, xte, yte),
    }
    with open(os.path.join(args.out, f'{full}.card.json'), 'w') as f:
        json.dump(card, f, indent=2)
    print(f'{full}: test accuracy {acc:.4f}; under failure {card["failureAccuracy"]}', flush=True)


def write_index(out):
    """models/index.json: what the page offers in its shipped-model list."""
    cards = []
    for f in sorted(os.listdir(out)):
        if f.endswith('.card.json'):
            with open(os.path.join(out, f)) as fh:
                c = json.load(fh)
            entry = {k: c[k] for k in ('name', 'file', 'testAccuracy', 'parameters', 'bytes', 'sha256')}
            if 'variant' in c:
                entry['variant'] = c['variant']['kind']
            cards.append(entry)
            with open(os.path.join(out, f'{c["name"]}.md'), 'w') as fh:
                fh.write(model_card_markdown(c))
    with open(os.path.join(out, 'index.json'), 'w') as fh:
        json.dump(cards, fh, indent=2)


if __name__ == '__main__':
    main()
