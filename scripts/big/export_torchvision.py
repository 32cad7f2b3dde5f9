#!/usr/bin/python3
"""Export the FRIM paper's ImageNet-size models (torchvision AlexNet, ResNet-50, VGG-16) to ONNX with
random weights: no pretrained weights can be downloaded here, and the point is their size and
shape (what makes partitioning worth it), not their accuracy.

    /usr/bin/python3 scripts/big/export_torchvision.py --out build/big [--external]

Writes alexnet.onnx (~233 MiB), resnet50.onnx (~98 MiB) and vgg16.onnx (~528 MiB): opset 13,
input "input" float32 [batch, 3, 224, 224], output "logits" [batch, 1000]. With --external, also
vgg16-ext.onnx + vgg16-ext.onnx.data: the layout torch.onnx.export writes for models over 2 GiB,
the weights in a data file beside the graph. Seeded, so every run writes the same files.
"""
import argparse
import os

import onnx
import torch
import torchvision

MODELS = {
    'alexnet': torchvision.models.alexnet,
    'resnet50': torchvision.models.resnet50,
    'vgg16': torchvision.models.vgg16,
}


def export(name, out):
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    path = os.path.join(out, f'{name}.onnx')
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)
    print(f'{path}: {os.path.getsize(path) / 2**20:.1f} MiB')
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='build/big')
    ap.add_argument('--only', choices=sorted(MODELS), action='append')
    ap.add_argument('--external', action='store_true', help='also write vgg16 with its weights in a separate data file')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or sorted(MODELS):
        path = export(name, args.out)
        if args.external and name == 'vgg16':
            m = onnx.load(path)
            ext = os.path.join(args.out, 'vgg16-ext.onnx')
            onnx.save_model(m, ext, save_as_external_data=True, all_tensors_to_one_file=True, location='vgg16-ext.onnx.data', size_threshold=1024)
            print(f'{ext}: {os.path.getsize(ext) / 2**10:.1f} KiB + vgg16-ext.onnx.data {os.path.getsize(ext + ".data") / 2**20:.1f} MiB')


if __name__ == '__main__':
    main()
