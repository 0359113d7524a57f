/** Detector settings, apart from detector.ts so Node tools can read them without loading face-api. */

/** The detector's input side: 224 is its fastest size and plenty for a face filling a webcam frame. */
export const DETECTOR_INPUT_SIZE = 224;
/** Minimum detection score; below it the frame counts as "no face" and the ROI falls back. */
export const DEFAULT_MIN_SCORE = 0.4;
