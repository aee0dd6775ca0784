// Command pulumi-language-python is keyguard's minimal Python language host for the real Pulumi CLI.
//
// The upstream host is not served by the Go module proxy, so the offline toolchain carries this small
// one: it runs Python programs with the project's virtualenv and `pulumi-language-python-exec`, starts
// Python plugins (the CrossGuard pack as `python -u -m pulumi.policy <engine> <pack-dir>`), and answers
// the rest of the LanguageRuntime protocol with "nothing to do". It does not install packages on its
// own: keyguard's scripts create the virtualenvs from pinned requirement files.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is linked in by toolchain/build.sh.
var version = "0.0.0"

// execScriptName is the program runner shipped in the sdk/v3 module (python/cmd); build.sh puts it
// next to this binary.
const execScriptName = "pulumi-language-python-exec"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string

	mu       sync.Mutex
	children map[*exec.Cmd]struct{}
}

func main() {
	// The engine passes optional flags first and its own address last.
	engine := ""
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-") {
			engine = a
		}
	}
	h := &host{engine: engine, children: map[*exec.Cmd]struct{}{}}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engine = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins answers "none": the toolchain installs the aws and vault providers itself and
// plugin acquisition is switched off.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return &pulumirpc.AboutResponse{Executable: "python", Version: "keyguard-minimal"}, nil
}

// InstallDependencies only checks that the virtualenv exists: creating it from pinned files is the
// job of keyguard's scripts (`make venv`, toolchain/preview.sh).
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, srv grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	py, err := pythonFor(req.GetInfo())
	if err != nil {
		return err
	}
	if _, err := os.Stat(py); err != nil {
		return status.Errorf(codes.FailedPrecondition,
			"virtualenv python %s is missing: create it from the pinned requirements (make venv)", py)
	}
	return srv.Send(&pulumirpc.InstallDependenciesResponse{Stdout: []byte("virtualenv present: " + py + "\n")})
}

// pythonFor resolves the interpreter of a program or plugin from its `virtualenv` runtime option
// (relative to the project's root directory), else PULUMI_PYTHON_CMD, else python3.
func pythonFor(info *pulumirpc.ProgramInfo) (string, error) {
	if info != nil && info.GetOptions() != nil {
		if v, ok := info.GetOptions().AsMap()["virtualenv"].(string); ok && v != "" {
			dir := v
			if !filepath.IsAbs(dir) {
				root := info.GetRootDirectory()
				if root == "" {
					root = info.GetProgramDirectory()
				}
				dir = filepath.Join(root, dir)
			}
			return filepath.Join(dir, "bin", "python"), nil
		}
	}
	if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		return cmd, nil
	}
	return exec.LookPath("python3")
}

func execScript() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(self), execScriptName)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found next to the language host: %w", execScriptName, err)
	}
	return p, nil
}

func (h *host) track(cmd *exec.Cmd, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		h.children[cmd] = struct{}{}
	} else {
		delete(h.children, cmd)
	}
}

// Run executes the program with the virtualenv's python through pulumi-language-python-exec, with
// the stack configuration in PULUMI_CONFIG as the Python SDK expects.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	py, err := pythonFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	script, err := execScript()
	if err != nil {
		return nil, err
	}
	program := "."
	pwd := req.GetPwd()
	if info := req.GetInfo(); info != nil {
		if info.GetEntryPoint() != "" {
			program = info.GetEntryPoint()
		}
		if info.GetProgramDirectory() != "" {
			pwd = info.GetProgramDirectory()
		}
	}
	args := []string{"-u", script,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", pwd,
		"--dry_run", fmt.Sprintf("%t", req.GetDryRun()),
		"--parallel", fmt.Sprintf("%d", req.GetParallel()),
		"--organization", req.GetOrganization(),
	}
	if info := req.GetInfo(); info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root_directory", info.GetRootDirectory())
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Dir = pwd
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PYTHONUNBUFFERED=1")
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	h.track(cmd, true)
	defer h.track(cmd, false)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			// 32: the program already showed the user an actionable message.
			if exit.ExitCode() == 32 {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

type streamWriter struct {
	mu     *sync.Mutex
	srv    grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	resp := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		resp = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.srv.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin starts a Python plugin: an analyzer (policy pack) runs as
// `python -u -m pulumi.policy <engine> <pack-dir>`, any other kind as `python -u <program> <args>`.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, srv grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	py, err := pythonFor(req.GetInfo())
	if err != nil {
		return err
	}
	dir := req.GetPwd()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	if _, err := os.Stat(py); err != nil {
		return status.Errorf(codes.FailedPrecondition,
			"the plugin's virtualenv python %s is missing (for a policy pack: create %s/venv from its requirements.txt)", py, dir)
	}
	var args []string
	if req.GetKind() == "analyzer" {
		args = append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		args = append(args, dir)
	} else {
		program := req.GetProgram()
		if info := req.GetInfo(); info != nil && info.GetEntryPoint() != "" {
			program = filepath.Join(dir, info.GetEntryPoint())
		}
		args = append([]string{"-u", program}, req.GetArgs()...)
	}
	cmd := exec.Command(py, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), req.GetEnv()...), "PYTHONUNBUFFERED=1")
	mu := &sync.Mutex{}
	cmd.Stdout = streamWriter{mu: mu, srv: srv}
	cmd.Stderr = streamWriter{mu: mu, srv: srv, stderr: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.track(cmd, true)
	defer h.track(cmd, false)
	// The engine cancels the stream to stop the plugin.
	go func() {
		<-srv.Context().Done()
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}()
	code := int32(0)
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = int32(exit.ExitCode())
	}
	mu.Lock()
	defer mu.Unlock()
	err = srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// Cancel stops running programs and plugins.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.children {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	return &emptypb.Empty{}, nil
}
