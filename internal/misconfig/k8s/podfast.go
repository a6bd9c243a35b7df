package k8s

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A direct decoder from the node tree to the typed fields Pod Security
// reads (the same set as pssjson.go), without writing JSON and running
// encoding/json over it. It handles well-typed input only: anything
// encoding/json would treat differently (a key matching a read field
// only case-insensitively, a merge key, a number where a string belongs,
// a fractional or out-of-range integer, a type mismatch) makes it give
// up, and DecodePod takes the encoding/json path, which decides (or
// refuses) exactly as before. TestDecodePodPruned requires the same Pod
// Security results as the full decode.

var errSlow = errors.New("not a plain well-typed pod")

type fastDec struct{ slow bool }

func (d *fastDec) giveUp() { d.slow = true }

// fields calls f for each key/value pair of a mapping (value resolved);
// it gives up on merge keys and on a key that matches one of names only
// case-insensitively (encoding/json would fold it onto the field).
func (d *fastDec) fields(n *yaml.Node, names []string, f func(k string, v *yaml.Node)) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.giveUp()
		return
	}
	for i := 0; i+1 < len(n.Content) && !d.slow; i += 2 {
		k := resolve(n.Content[i])
		if k == nil || k.Tag == "!!merge" || k.Kind != yaml.ScalarNode {
			d.giveUp()
			return
		}
		if !slices.Contains(names, k.Value) {
			for _, nm := range names {
				if strings.EqualFold(nm, k.Value) {
					d.giveUp()
					return
				}
			}
		}
		f(k.Value, resolve(n.Content[i+1]))
	}
}

func isNull(v *yaml.Node) bool {
	return v == nil || (v.Kind == yaml.ScalarNode && scalarValue(v) == nil)
}

func (d *fastDec) boolean(v *yaml.Node) (bool, bool) {
	if isNull(v) {
		return false, false
	}
	if v.Kind == yaml.ScalarNode {
		if b, ok := scalarValue(v).(bool); ok {
			return b, true
		}
	}
	d.giveUp()
	return false, false
}

func (d *fastDec) boolPtr(v *yaml.Node) *bool {
	if b, ok := d.boolean(v); ok {
		return &b
	}
	return nil
}

func (d *fastDec) str(v *yaml.Node) (string, bool) {
	if isNull(v) {
		return "", false
	}
	if v.Kind == yaml.ScalarNode {
		if s, ok := scalarValue(v).(string); ok {
			return s, true
		}
	}
	d.giveUp()
	return "", false
}

func (d *fastDec) strPtr(v *yaml.Node) *string {
	if s, ok := d.str(v); ok {
		return &s
	}
	return nil
}

func (d *fastDec) integer(v *yaml.Node, lo, hi int64) (int64, bool) {
	if isNull(v) {
		return 0, false
	}
	if v.Kind == yaml.ScalarNode {
		if i, ok := scalarValue(v).(int64); ok && i >= lo && i <= hi {
			return i, true
		}
	}
	d.giveUp()
	return 0, false
}

func (d *fastDec) int64Ptr(v *yaml.Node) *int64 {
	if i, ok := d.integer(v, math.MinInt64, math.MaxInt64); ok {
		return &i
	}
	return nil
}

func (d *fastDec) int32(v *yaml.Node) int32 {
	i, _ := d.integer(v, math.MinInt32, math.MaxInt32)
	return int32(i)
}

func (d *fastDec) seq(v *yaml.Node, f func(e *yaml.Node)) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.giveUp()
		return
	}
	for _, e := range v.Content {
		if d.slow {
			return
		}
		f(resolve(e))
	}
}

func (d *fastDec) strings(v *yaml.Node) []string {
	var out []string
	d.seq(v, func(e *yaml.Node) {
		s, _ := d.str(e)
		out = append(out, s)
	})
	return out
}

// mapping is true for an object value, false for null; anything else
// gives up.
func (d *fastDec) mapping(v *yaml.Node) bool {
	if isNull(v) {
		return false
	}
	if v.Kind != yaml.MappingNode {
		d.giveUp()
		return false
	}
	return true
}

// decodePodFast is DecodePod's fast path; errSlow means "use encoding/json".
func decodePodFast(metaNode, specNode *yaml.Node) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	d := &fastDec{}
	meta := &metav1.ObjectMeta{}
	if metaNode != nil && !isNull(resolve(metaNode)) {
		d.fields(metaNode, []string{"annotations"}, func(k string, v *yaml.Node) {
			if k != "annotations" || !d.mapping(v) {
				return
			}
			meta.Annotations = map[string]string{}
			d.fields(v, nil, func(k string, v *yaml.Node) {
				s, _ := d.str(v)
				meta.Annotations[k] = s
			})
		})
	}
	spec := &corev1.PodSpec{}
	d.fields(specNode, []string{"hostNetwork", "hostPID", "hostIPC", "hostUsers", "securityContext", "os", "volumes", "containers", "initContainers", "ephemeralContainers"}, func(k string, v *yaml.Node) {
		switch k {
		case "hostNetwork":
			spec.HostNetwork, _ = d.boolean(v)
		case "hostPID":
			spec.HostPID, _ = d.boolean(v)
		case "hostIPC":
			spec.HostIPC, _ = d.boolean(v)
		case "hostUsers":
			spec.HostUsers = d.boolPtr(v)
		case "securityContext":
			spec.SecurityContext = d.podSecurityContext(v)
		case "os":
			if d.mapping(v) {
				spec.OS = &corev1.PodOS{}
				d.fields(v, []string{"name"}, func(k string, v *yaml.Node) {
					if k == "name" {
						s, _ := d.str(v)
						spec.OS.Name = corev1.OSName(s)
					}
				})
			}
		case "volumes":
			spec.Volumes = nil
			d.seq(v, func(e *yaml.Node) { spec.Volumes = append(spec.Volumes, d.volume(e)) })
		case "containers":
			spec.Containers = nil
			d.seq(v, func(e *yaml.Node) { spec.Containers = append(spec.Containers, d.container(e)) })
		case "initContainers":
			spec.InitContainers = nil
			d.seq(v, func(e *yaml.Node) { spec.InitContainers = append(spec.InitContainers, d.container(e)) })
		case "ephemeralContainers":
			spec.EphemeralContainers = nil
			d.seq(v, func(e *yaml.Node) {
				spec.EphemeralContainers = append(spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(d.container(e))})
			})
		}
	})
	if d.slow {
		return nil, nil, errSlow
	}
	applyPodDefaults(spec)
	return meta, spec, nil
}

var (
	podSecFields       = []string{"seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "appArmorProfile", "sysctls"}
	containerSecFields = []string{"seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "appArmorProfile", "capabilities", "privileged", "allowPrivilegeEscalation", "procMount"}
)

func (d *fastDec) podSecurityContext(v *yaml.Node) *corev1.PodSecurityContext {
	if !d.mapping(v) {
		return nil
	}
	sc := &corev1.PodSecurityContext{}
	d.fields(v, podSecFields, func(k string, v *yaml.Node) {
		switch k {
		case "seLinuxOptions":
			sc.SELinuxOptions = d.seLinux(v)
		case "windowsOptions":
			sc.WindowsOptions = d.windows(v)
		case "runAsUser":
			sc.RunAsUser = d.int64Ptr(v)
		case "runAsGroup":
			sc.RunAsGroup = d.int64Ptr(v)
		case "runAsNonRoot":
			sc.RunAsNonRoot = d.boolPtr(v)
		case "seccompProfile":
			sc.SeccompProfile = d.seccomp(v)
		case "appArmorProfile":
			sc.AppArmorProfile = d.appArmor(v)
		case "sysctls":
			sc.Sysctls = nil
			d.seq(v, func(e *yaml.Node) {
				var s corev1.Sysctl
				if d.mapping(e) {
					d.fields(e, []string{"name", "value"}, func(k string, v *yaml.Node) {
						switch k {
						case "name":
							s.Name, _ = d.str(v)
						case "value":
							s.Value, _ = d.str(v)
						}
					})
				}
				sc.Sysctls = append(sc.Sysctls, s)
			})
		}
	})
	return sc
}

func (d *fastDec) securityContext(v *yaml.Node) *corev1.SecurityContext {
	if !d.mapping(v) {
		return nil
	}
	sc := &corev1.SecurityContext{}
	d.fields(v, containerSecFields, func(k string, v *yaml.Node) {
		switch k {
		case "seLinuxOptions":
			sc.SELinuxOptions = d.seLinux(v)
		case "windowsOptions":
			sc.WindowsOptions = d.windows(v)
		case "runAsUser":
			sc.RunAsUser = d.int64Ptr(v)
		case "runAsGroup":
			sc.RunAsGroup = d.int64Ptr(v)
		case "runAsNonRoot":
			sc.RunAsNonRoot = d.boolPtr(v)
		case "seccompProfile":
			sc.SeccompProfile = d.seccomp(v)
		case "appArmorProfile":
			sc.AppArmorProfile = d.appArmor(v)
		case "privileged":
			sc.Privileged = d.boolPtr(v)
		case "allowPrivilegeEscalation":
			sc.AllowPrivilegeEscalation = d.boolPtr(v)
		case "procMount":
			if s := d.strPtr(v); s != nil {
				pm := corev1.ProcMountType(*s)
				sc.ProcMount = &pm
			} else {
				sc.ProcMount = nil
			}
		case "capabilities":
			if !d.mapping(v) {
				sc.Capabilities = nil
				return
			}
			sc.Capabilities = &corev1.Capabilities{}
			d.fields(v, []string{"add", "drop"}, func(k string, v *yaml.Node) {
				if k != "add" && k != "drop" {
					return
				}
				var caps []corev1.Capability
				for _, s := range d.strings(v) {
					caps = append(caps, corev1.Capability(s))
				}
				switch k {
				case "add":
					sc.Capabilities.Add = caps
				case "drop":
					sc.Capabilities.Drop = caps
				}
			})
		}
	})
	return sc
}

func (d *fastDec) seLinux(v *yaml.Node) *corev1.SELinuxOptions {
	if !d.mapping(v) {
		return nil
	}
	o := &corev1.SELinuxOptions{}
	d.fields(v, []string{"user", "role", "type", "level"}, func(k string, v *yaml.Node) {
		switch k {
		case "user":
			o.User, _ = d.str(v)
		case "role":
			o.Role, _ = d.str(v)
		case "type":
			o.Type, _ = d.str(v)
		case "level":
			o.Level, _ = d.str(v)
		}
	})
	return o
}

func (d *fastDec) windows(v *yaml.Node) *corev1.WindowsSecurityContextOptions {
	if !d.mapping(v) {
		return nil
	}
	o := &corev1.WindowsSecurityContextOptions{}
	d.fields(v, []string{"hostProcess"}, func(k string, v *yaml.Node) {
		if k == "hostProcess" {
			o.HostProcess = d.boolPtr(v)
		}
	})
	return o
}

func (d *fastDec) seccomp(v *yaml.Node) *corev1.SeccompProfile {
	if !d.mapping(v) {
		return nil
	}
	o := &corev1.SeccompProfile{}
	d.fields(v, []string{"type", "localhostProfile"}, func(k string, v *yaml.Node) {
		switch k {
		case "type":
			s, _ := d.str(v)
			o.Type = corev1.SeccompProfileType(s)
		case "localhostProfile":
			o.LocalhostProfile = d.strPtr(v)
		}
	})
	return o
}

func (d *fastDec) appArmor(v *yaml.Node) *corev1.AppArmorProfile {
	if !d.mapping(v) {
		return nil
	}
	o := &corev1.AppArmorProfile{}
	d.fields(v, []string{"type", "localhostProfile"}, func(k string, v *yaml.Node) {
		switch k {
		case "type":
			s, _ := d.str(v)
			o.Type = corev1.AppArmorProfileType(s)
		case "localhostProfile":
			o.LocalhostProfile = d.strPtr(v)
		}
	})
	return o
}

func (d *fastDec) container(v *yaml.Node) corev1.Container {
	var c corev1.Container
	if !d.mapping(v) {
		return c
	}
	d.fields(v, []string{"name", "securityContext", "ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle"}, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			c.Name, _ = d.str(v)
		case "securityContext":
			c.SecurityContext = d.securityContext(v)
		case "ports":
			c.Ports = nil
			d.seq(v, func(e *yaml.Node) {
				var p corev1.ContainerPort
				if d.mapping(e) {
					d.fields(e, []string{"hostPort", "containerPort"}, func(k string, v *yaml.Node) {
						switch k {
						case "hostPort":
							p.HostPort = d.int32(v)
						case "containerPort":
							p.ContainerPort = d.int32(v)
						}
					})
				}
				c.Ports = append(c.Ports, p)
			})
		case "livenessProbe":
			c.LivenessProbe = d.probe(v)
		case "readinessProbe":
			c.ReadinessProbe = d.probe(v)
		case "startupProbe":
			c.StartupProbe = d.probe(v)
		case "lifecycle":
			if !d.mapping(v) {
				c.Lifecycle = nil
				return
			}
			c.Lifecycle = &corev1.Lifecycle{}
			d.fields(v, []string{"postStart", "preStop"}, func(k string, v *yaml.Node) {
				switch k {
				case "postStart":
					c.Lifecycle.PostStart = d.handler(v)
				case "preStop":
					c.Lifecycle.PreStop = d.handler(v)
				}
			})
		}
	})
	return c
}

// hosts reads the host of httpGet and tcpSocket (the only handler fields
// Pod Security reads).
func (d *fastDec) hosts(v *yaml.Node, http **corev1.HTTPGetAction, tcp **corev1.TCPSocketAction) {
	d.fields(v, []string{"httpGet", "tcpSocket"}, func(k string, v *yaml.Node) {
		if k != "httpGet" && k != "tcpSocket" {
			return
		}
		if !d.mapping(v) {
			switch k {
			case "httpGet":
				*http = nil
			case "tcpSocket":
				*tcp = nil
			}
			return
		}
		host := ""
		d.fields(v, []string{"host"}, func(k string, v *yaml.Node) {
			if k == "host" {
				host, _ = d.str(v)
			}
		})
		switch k {
		case "httpGet":
			*http = &corev1.HTTPGetAction{Host: host}
		case "tcpSocket":
			*tcp = &corev1.TCPSocketAction{Host: host}
		}
	})
}

func (d *fastDec) probe(v *yaml.Node) *corev1.Probe {
	if !d.mapping(v) {
		return nil
	}
	p := &corev1.Probe{}
	d.hosts(v, &p.HTTPGet, &p.TCPSocket)
	return p
}

func (d *fastDec) handler(v *yaml.Node) *corev1.LifecycleHandler {
	if !d.mapping(v) {
		return nil
	}
	h := &corev1.LifecycleHandler{}
	d.hosts(v, &h.HTTPGet, &h.TCPSocket)
	return h
}

// volumeSources maps each VolumeSource JSON name to its field.
var volumeSources, volumeNames = func() (map[string]int, []string) {
	m := map[string]int{}
	names := []string{"name"}
	t := reflect.TypeFor[corev1.VolumeSource]()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			m[name] = i
			names = append(names, name)
		}
	}
	return m, names
}()

// volume keeps the name and which sources are set (Pod Security looks
// at the kind of source only).
func (d *fastDec) volume(v *yaml.Node) corev1.Volume {
	var vol corev1.Volume
	if !d.mapping(v) {
		return vol
	}
	src := reflect.ValueOf(&vol.VolumeSource).Elem()
	d.fields(v, volumeNames, func(k string, v *yaml.Node) {
		if k == "name" {
			vol.Name, _ = d.str(v)
			return
		}
		i, ok := volumeSources[k]
		if !ok {
			return
		}
		f := src.Field(i)
		if !d.mapping(v) {
			f.SetZero()
			return
		}
		f.Set(reflect.New(f.Type().Elem()))
	})
	return vol
}
