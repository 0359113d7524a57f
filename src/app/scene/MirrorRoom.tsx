/**
 * A room to stand in: floor, walls and a framed mirror in which the avatar stands, so the immersive
 * view reads as looking into a mirror rather than floating in a void. Cheap on purpose: a few dozen
 * triangles, unlit colours (no extra lights, no textures, no shadows), because a standalone headset
 * draws it twice per frame and every extra light would cost each pixel of the avatar too. Shown in
 * the headset only: on a desktop the window is the frame.
 */
import { AVATAR_POSITION } from './layout.js';

const ROOM = { width: 4.2, depth: 4.2, height: 2.7 };
/** The mirror's pane, centred on the avatar, a little behind it. */
const MIRROR = { width: 0.95, height: 1.45, frame: 0.05 };

function Wall({ position, rotationY, width, color }: { position: [number, number, number]; rotationY: number; width: number; color: string }) {
  return (
    <mesh position={position} rotation={[0, rotationY, 0]}>
      <planeGeometry args={[width, ROOM.height]} />
      <meshBasicMaterial color={color} />
    </mesh>
  );
}

export function MirrorRoom({ mirrorY = AVATAR_POSITION[1] - 0.15 }: { mirrorY?: number }) {
  const z = AVATAR_POSITION[2] - 0.25;
  const back = z - 0.02;
  const half = ROOM.depth / 2;
  return (
    <group name="mirror-room">
      <mesh rotation={[-Math.PI / 2, 0, 0]} position={[0, 0, 0]}>
        <planeGeometry args={[ROOM.width, ROOM.depth]} />
        <meshBasicMaterial color="#5a4e44" />
      </mesh>
      <mesh rotation={[-Math.PI / 2, 0, 0]} position={[0, 0.002, -0.35]}>
        <circleGeometry args={[0.9, 40]} />
        <meshBasicMaterial color="#35666b" />
      </mesh>
      <Wall position={[0, ROOM.height / 2, back]} rotationY={0} width={ROOM.width} color="#b9b2a6" />
      <Wall position={[-ROOM.width / 2, ROOM.height / 2, back + half]} rotationY={Math.PI / 2} width={ROOM.depth} color="#a49c8e" />
      <Wall position={[ROOM.width / 2, ROOM.height / 2, back + half]} rotationY={-Math.PI / 2} width={ROOM.depth} color="#a49c8e" />
      {/* the mirror: a frame and a dark, glossy pane the avatar stands in front of */}
      <mesh position={[0, mirrorY, z]}>
        <boxGeometry args={[MIRROR.width + 2 * MIRROR.frame, MIRROR.height + 2 * MIRROR.frame, 0.03]} />
        <meshBasicMaterial color="#7a5c3e" />
      </mesh>
      <mesh position={[0, mirrorY, z + 0.016]}>
        <planeGeometry args={[MIRROR.width, MIRROR.height]} />
        <meshBasicMaterial color="#223040" />
      </mesh>
    </group>
  );
}

