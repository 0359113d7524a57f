/**
 * halfface as a library: add expression mirroring to an R3F / @react-three/xr scene.
 *
 *   import { useExpression, ExpressionAvatar } from 'halfface';
 *   const expression = useExpression({ modelUrl: '/models/halfface/model.json', source: 'camera' });
 *   <ExpressionAvatar expression={expression} position={[0, 1.5, -0.6]} />
 *
 * Models load only from the URL you pass (serve models/<name>/ yourself); nothing is fetched from
 * third-party hosts. See docs/developers.md.
 */

// Tracker: camera frame → expression probabilities, label, ARKit blendshapes, VRM presets (and the measured mouth).
export { ExpressionTracker, MIN_CALIBRATION_FRAMES, openCamera, TrackerError } from './tracker/index.js';
export type {
  EngineHandle, EngineOutput, EngineStats, Frame, LoadProgress, LoadStage, RoiOptions, RoiSource, SmoothingOptions, TrackerErrorCode,
  TrackerOptions, TrackerState, TrackerStats, TrackResult,
} from './tracker/index.js';

// Labels, preprocessing and occlusion: exactly what the model saw in training.
export { argmax, EXPRESSIONS, NUM_CLASSES, type Expression } from './core/labels.js';
export { FACE_PIXELS, FACE_SIZE, luma, normalisePixel } from './core/face-geometry.js';
export { hiddenRows, occlude, OCCLUSIONS, parseOcclusion, type Occlusion } from './core/occlusion.js';
export {
  boxToPixels, faceFromRgba, FULL_FRAME, isValidBox, PLACEMENTS, preprocessFrame, PreprocessError, squareFaceBox, toModelInput,
  type Box, type PixelBox, type Placement,
} from './core/preprocess.js';

// Expression → avatar mapping, smoothing, neutral calibration.
export {
  ARKIT_BLENDSHAPES, ARKIT_TABLE, arkitWeights, toRecord, VRM_PRESETS, VRM_TABLE, vrmWeights, type ArkitBlendshape, type VrmPreset,
} from './core/blendshapes.js';
export {
  DEFAULT_MOUTH_ONE_EURO, DEFAULT_ONE_EURO, LabelHysteresis, OneEuroFilter, ProbabilitySmoother, VectorSmoother, type OneEuroConfig,
} from './core/smoothing.js';
export {
  applyCalibration, applyMouthRest, CalibrationError, fitMouthRest, fitNeutralCalibration, type NeutralCalibration,
} from './core/calibration.js';
// The measured mouth (a model with the mouth head): its names, visemes, and how it joins the expression mapping.
export {
  MOUTH_BLENDSHAPES, mouthToVisemes, VRM_VISEMES, type MouthBlendshape, type MouthWeights, type VrmViseme,
} from './core/mouth-blendshapes.js';
export { faceWeights, isMouthShape, toMouthRecord, type FaceWeights } from './core/face-weights.js';

// A built-in demo face (drawn in code) as a MediaStream: something to track without a camera.
export { DEMO_FACE_BOX, startDemoInput, type DemoInput } from './capture/demo-face.js';

// A tracker, its input and the loop between them, without React; and the React Three Fiber side.
export {
  ExpressionSession, type ExpressionHandle, type ExpressionInput, type ExpressionSessionOptions, type ExpressionStatus,
} from './embed/expression-session.js';
export { useExpression, type UseExpressionOptions } from './embed/use-expression.js';
export { ExpressionAvatar, type ExpressionAvatarHandle, type ExpressionAvatarProps, type ExpressionSourceLike } from './embed/ExpressionAvatar.js';
export { AvatarLoadError, loadAvatar, type LoadedAvatar } from './avatar/avatar-loader.js';
export { bindArkitMorphs, FaceDriver, type FaceTarget, type MorphBinding } from './avatar/face-driver.js';

// Research recording and the OSC bridge client.
export * from './research/index.js';
export { connectOscBridge, DEFAULT_OSC_BRIDGE_URL, type OscBridgeClient, type OscBridgeClientOptions, type OscBridgeState } from './bridge/osc-bridge-client.js';
