#!/usr/bin/python3
"""Reference fixtures for @symseq/vit-teacher.

Builds a tiny DINO Vision Transformer (and DINO projection head) from torch.nn primitives,
following facebookresearch/dino's vision_transformer.py (Apache-2.0) structure, including
`interpolate_pos_encoding`, gives it random weights and writes, under
packages/vit-teacher/test/fixtures/:

  vit_tiny_timm.safetensors      weights in timm/DINO naming (fused qkv, conv patch_embed, head.*)
  vit_tiny_hf.safetensors        the same backbone in Hugging Face ViTModel naming
  vit_tiny_expected.safetensors  inputs and expected outputs (config in __metadata__)
  bicubic.safetensors            torch bicubic resampling cases (scale_factor, align_corners=False)

Run with Debian's torch:  /usr/bin/python3 tools/reference/vit_reference.py
No timm/transformers/safetensors packages are needed: the files are written with struct + json.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'vit-teacher', 'test', 'fixtures')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

CONFIG = dict(img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3, mlp_ratio=4.0)
HEAD = dict(hidden_dim=64, bottleneck_dim=32, out_dim=40, nlayers=3)


# --- DINO's model, from torch.nn primitives (drop-out / drop-path omitted: inference only) ---


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x), attn


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, return_attention=False):
        y, attn = self.attn(self.norm1(x))
        if return_attention:
            return attn
        x = x + y
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, embed_dim):
        super().__init__()
        self.patch_size = patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def interpolate_pos_encoding(self, x, w, h):
        # Verbatim logic of DINO's interpolate_pos_encoding.
        npatch = x.shape[1] - 1
        N = self.pos_embed.shape[1] - 1
        if npatch == N and w == h:
            return self.pos_embed
        class_pos_embed = self.pos_embed[:, 0]
        patch_pos_embed = self.pos_embed[:, 1:]
        dim = x.shape[-1]
        w0 = w // self.patch_embed.patch_size
        h0 = h // self.patch_embed.patch_size
        w0, h0 = w0 + 0.1, h0 + 0.1
        patch_pos_embed = F.interpolate(
            patch_pos_embed.reshape(1, int(math.sqrt(N)), int(math.sqrt(N)), dim).permute(0, 3, 1, 2),
            scale_factor=(w0 / math.sqrt(N), h0 / math.sqrt(N)),
            mode='bicubic',
        )
        assert int(w0) == patch_pos_embed.shape[-2] and int(h0) == patch_pos_embed.shape[-1]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1)

    def prepare_tokens(self, x):
        B, nc, w, h = x.shape
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        return x + self.interpolate_pos_encoding(x, w, h)

    def get_last_selfattention(self, x):
        x = self.prepare_tokens(x)
        for i, blk in enumerate(self.blocks):
            if i < len(self.blocks) - 1:
                x = blk(x)
            else:
                return blk(x, return_attention=True)

    def get_intermediate_layers(self, x, n=1):
        x = self.prepare_tokens(x)
        output = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if len(self.blocks) - i <= n:
                output.append(self.norm(x))
        return output


class DINOHead(nn.Module):
    def __init__(self, in_dim, out_dim, nlayers=3, hidden_dim=2048, bottleneck_dim=256):
        super().__init__()
        layers = [nn.Linear(in_dim, hidden_dim), nn.GELU()]
        for _ in range(nlayers - 2):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.GELU()]
        layers.append(nn.Linear(hidden_dim, bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))

    def forward(self, x):
        x = self.mlp(x)
        x = F.normalize(x, dim=-1, p=2)
        return self.last_layer(x)


# --- safetensors writer (F32, names sorted, header padded to 8 bytes) ---


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        raw = t.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode('utf-8'))
        for b in blobs:
            f.write(b)
    return os.path.getsize(path)


def hf_state_dict(sd, depth, dim):
    """timm/DINO names → Hugging Face ViTModel names (as transformers' convert_dino_to_pytorch.py)."""
    out = {
        'embeddings.cls_token': sd['cls_token'],
        'embeddings.position_embeddings': sd['pos_embed'],
        'embeddings.patch_embeddings.projection.weight': sd['patch_embed.proj.weight'],
        'embeddings.patch_embeddings.projection.bias': sd['patch_embed.proj.bias'],
        'layernorm.weight': sd['norm.weight'],
        'layernorm.bias': sd['norm.bias'],
    }
    for i in range(depth):
        b, L = f'blocks.{i}.', f'encoder.layer.{i}.'
        pairs = {
            'norm1': 'layernorm_before', 'norm2': 'layernorm_after', 'attn.proj': 'attention.output.dense',
            'mlp.fc1': 'intermediate.dense', 'mlp.fc2': 'output.dense',
        }
        for src, dst in pairs.items():
            out[f'{L}{dst}.weight'] = sd[f'{b}{src}.weight']
            out[f'{L}{dst}.bias'] = sd[f'{b}{src}.bias']
        qw, qb = sd[f'{b}attn.qkv.weight'], sd[f'{b}attn.qkv.bias']
        for j, n in enumerate(['query', 'key', 'value']):
            out[f'{L}attention.attention.{n}.weight'] = qw[j * dim:(j + 1) * dim]
            out[f'{L}attention.attention.{n}.bias'] = qb[j * dim:(j + 1) * dim]
    return out


def randomise(model):
    """Weights far from init so that every path (attention peaks, LayerNorm affine) matters."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('weight_g'):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            elif 'norm' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() >= 2 and name not in ('cls_token', 'pos_embed'):
                fan_in = p[0].numel()
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            else:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))


def normalise(images_nhwc):
    mean = torch.tensor(IMAGENET_MEAN).view(1, 1, 1, 3)
    std = torch.tensor(IMAGENET_STD).view(1, 1, 1, 3)
    return ((images_nhwc - mean) / std).permute(0, 3, 1, 2).contiguous()


def run(vit, head, x_nchw, tag, out):
    tokens = vit.get_intermediate_layers(x_nchw, 1)[0]
    attn = vit.get_last_selfattention(x_nchw)
    out[f'{tag}.tokens'] = tokens[:, 1:]
    out[f'{tag}.cls'] = tokens[:, 0]
    out[f'{tag}.attention'] = attn
    out[f'{tag}.head'] = head(tokens[:, 0])


def bicubic_cases(out):
    """torch bicubic with scale_factor (so the kernel maps coordinates by 1/scale, as DINO relies on)."""
    g = torch.Generator().manual_seed(2)
    cases = [
        ('up6', (4, 4), (6.1 / 4, 6.1 / 4)),
        ('down2', (4, 4), (2.1 / 4, 2.1 / 4)),
        ('rect7x3', (4, 4), (7.1 / 4, 3.1 / 4)),
        ('up14', (4, 4), (14.1 / 4, 14.1 / 4)),
        ('src3x5', (3, 5), (1.7, 0.9)),
    ]
    meta = {}
    for name, (h, w), scale in cases:
        src = torch.randn(1, 2, h, w, generator=g)
        dst = F.interpolate(src, scale_factor=scale, mode='bicubic', align_corners=False)
        out[f'{name}.input'] = src[0].permute(1, 2, 0)  # [h, w, c]
        out[f'{name}.output'] = dst[0].permute(1, 2, 0)
        meta[name] = {'scale': list(scale), 'out': list(dst.shape[2:])}
    return meta


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    c = CONFIG
    vit = VisionTransformer(c['img_size'], c['patch_size'], c['embed_dim'], c['depth'], c['num_heads'], c['mlp_ratio'])
    head = DINOHead(c['embed_dim'], HEAD['out_dim'], HEAD['nlayers'], HEAD['hidden_dim'], HEAD['bottleneck_dim'])
    randomise(vit)
    randomise(head)
    vit.eval()
    head.eval()

    sd = {k: v for k, v in vit.state_dict().items()}
    timm = dict(sd)
    for k, v in head.state_dict().items():
        timm[f'head.{k}'] = v
    sizes = {}
    sizes['timm'] = write_safetensors(os.path.join(OUT, 'vit_tiny_timm.safetensors'), timm)
    sizes['hf'] = write_safetensors(
        os.path.join(OUT, 'vit_tiny_hf.safetensors'), hf_state_dict(sd, c['depth'], c['embed_dim'])
    )

    g = torch.Generator().manual_seed(3)
    expected = {}
    with torch.no_grad():
        img32 = torch.rand(2, 32, 32, 3, generator=g)
        img48 = torch.rand(2, 48, 48, 3, generator=g)
        expected['native.images'] = img32
        run(vit, head, normalise(img32), 'native', expected)
        expected['interp.images'] = img48
        run(vit, head, normalise(img48), 'interp', expected)
        # 32-px images given to a teacher whose input size is 48: bilinear resize (half-pixel centres), then ViT.
        up = F.interpolate(img32.permute(0, 3, 1, 2), size=(48, 48), mode='bilinear', align_corners=False)
        run(vit, head, normalise(up.permute(0, 2, 3, 1)), 'resized', expected)
        # Non-square input 24×40: DINO interpolates each axis with its own scale.
        img_rect = torch.rand(1, 24, 40, 3, generator=g)
        expected['rect.images'] = img_rect
        run(vit, head, normalise(img_rect), 'rect', expected)
        bicubic = {}
        bmeta = bicubic_cases(bicubic)

    meta = {'config': json.dumps(c), 'head': json.dumps(HEAD), 'torch': torch.__version__}
    sizes['expected'] = write_safetensors(os.path.join(OUT, 'vit_tiny_expected.safetensors'), expected, meta)
    sizes['bicubic'] = write_safetensors(
        os.path.join(OUT, 'bicubic.safetensors'), bicubic, {'cases': json.dumps(bmeta)}
    )
    total = sum(sizes.values())
    print(json.dumps(sizes), f'total {total} bytes')
    assert total < 1_000_000, 'fixtures must stay under 1 MB'


if __name__ == '__main__':
    main()
