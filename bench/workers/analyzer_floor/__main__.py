"""The gRPC floor of an `Analyze` call: the analyzer protocol served exactly as pulumi-policy
serves a pack (`python -m pulumi.policy <engine> <dir>`, a four-thread pool, the SDK's channel
options, the port printed on stdout), by a servicer that answers Configure and Analyze with empty
messages. `bench.measurements.analyze_floor` drives it with the client and procedure of
`analyze_latency`, so the difference between the two is what the pack itself spends."""
import sys
import time
from concurrent import futures

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import policy as sdk


class EmptyAnalyzer(analyzer_pb2_grpc.AnalyzerServicer):
    def Configure(self, request, context):
        return empty_pb2.Empty()

    def Analyze(self, request, context):
        return analyzer_pb2.AnalyzeResponse()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=sdk._GRPC_CHANNEL_OPTIONS)
analyzer_pb2_grpc.add_AnalyzerServicer_to_server(EmptyAnalyzer(), server)
port = server.add_insecure_port(address="127.0.0.1:0")
server.start()
sys.stdout.buffer.write(f"{port}\n".encode())
try:
    while True:
        time.sleep(86400)
except KeyboardInterrupt:
    server.stop(0)
