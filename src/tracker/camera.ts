/** Opening a camera with failures as typed errors: denied, absent, or busy. */
import { TrackerError } from './types.js';

/**
 * getUserMedia with the reasons it fails told apart. The stream is the app's: stop its tracks when done.
 * Default: the user-facing camera at 640x480, enough for a 48x48 face crop.
 */
export async function openCamera(constraints: MediaTrackConstraints = { facingMode: 'user', width: 640, height: 480 }): Promise<MediaStream> {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
    throw new TrackerError('camera-absent', 'this page has no camera API (navigator.mediaDevices needs a secure context: https or localhost)');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
  } catch (e) {
    const name = (e as DOMException).name;
    const message = (e as Error).message;
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new TrackerError('camera-denied', `camera permission denied (${name}: ${message})`);
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw new TrackerError('camera-absent', `no camera matches (${name}: ${message})`);
    throw new TrackerError('camera-absent', `the camera could not be opened (${name}: ${message}); another app may hold it`);
  }
}
