/** Page side of tools/browser/export-default-avatar.ts: the built-in head as GLB bytes (three's GLTFExporter). */
import { GLTFExporter } from 'three/examples/jsm/exporters/GLTFExporter.js';
import { defaultAvatarTarget } from '../../src/avatar/avatar-loader.js';

export async function exportDefaultAvatar(): Promise<string> {
  const { root } = defaultAvatarTarget();
  // In metres, facing +z, centred on the head, as loadAvatar() expects an ARKit glTF head.
  const glb = await new GLTFExporter().parseAsync(root, { binary: true, onlyVisible: true }) as ArrayBuffer;
  let text = '';
  const bytes = new Uint8Array(glb);
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
