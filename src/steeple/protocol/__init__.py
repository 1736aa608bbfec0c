"""Sans-I/O protocol: frames, actions and the JSON codec. No asyncio, no sockets."""

from steeple.protocol.frames import Action, decode_frame, encode_frame, socket_id_frame

__all__ = ["Action", "decode_frame", "encode_frame", "socket_id_frame"]
