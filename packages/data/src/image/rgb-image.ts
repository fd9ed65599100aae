/** A decoded image: `data` holds `height * width * 3` bytes, row-major, channels R, G, B. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}
