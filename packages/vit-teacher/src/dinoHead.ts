// The DINO head is one class in @symseq/nn, shared by the teacher (a DINO checkpoint's head) and the
// student (its projector); re-exported here because `VisionTransformer.head` is one.
export { DinoHead, type DinoHeadConfig, type DinoHeadConfigInput, dinoHeadConfigSchema } from '@symseq/nn';
